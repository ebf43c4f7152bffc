#!/usr/bin/env node
'use strict';
/*
 * Magic-value MCP server: a coverage benchmark fixture for mcpfuzz (no dependencies).
 *
 * Newline-delimited JSON-RPC 2.0 on stdin/stdout (requests, notifications, batches and the
 * Invalid Request cases as testbed/jsonline.py answers them): initialize, ping, tools/list
 * and tools/call with one tool, `inspect {value: string}`. The handler
 * compares the value with a six-character secret one character at a time in nested ifs,
 * so that a coverage-guided fuzzer sees every extra matching character as a new block.
 * A value that starts with all six characters makes the process abort (SIGABRT). The
 * secret is built from character codes and appears in no schema, description or reply.
 * Every other input gets a correct reply, so that the fuzzer's other oracles stay quiet
 * and the benchmark measures the search for the secret.
 */
const PROTOCOL = '2025-06-18';
const TOOLS = [
  {
    name: 'inspect',
    description: 'Inspects a value',
    inputSchema: {
      type: 'object',
      properties: { value: { type: 'string' } },
      required: ['value'],
    },
  },
];

function inspect(value) {
  if (value.length >= 1 && value.charCodeAt(0) === 0x6b) {
    if (value.length >= 2 && value.charCodeAt(1) === 0x37) {
      if (value.length >= 3 && value.charCodeAt(2) === 0x51) {
        if (value.length >= 4 && value.charCodeAt(3) === 0x7a) {
          if (value.length >= 5 && value.charCodeAt(4) === 0x21) {
            if (value.length >= 6 && value.charCodeAt(5) === 0x4d) {
              process.abort();
            }
          }
        }
      }
    }
  }
  return 'inspected ' + value.length + ' characters';
}

// Ids are echoed exactly as they were sent: a number JavaScript cannot hold exactly
// (2^53 + 1, 1.0, 1e2) keeps its source text, where V8 gives it (on Node 20 behind a flag).
try {
  require('v8').setFlagsFromString('--harmony-json-parse-with-source');
} catch (_) {
  // an engine without the flag: such ids come back rounded
}
class RawNumber {
  constructor(source) {
    this.source = source;
  }
}

// Strict JSON, as testbed/jsonline.py reads it: a lone surrogate escape is an error.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?:^|[^\ud800-\udbff])[\udc00-\udfff]/;

function reviver(key, value, context) {
  if (LONE_SURROGATE.test(key) || (typeof value === 'string' && LONE_SURROGATE.test(value))) {
    throw new SyntaxError('lone surrogate');
  }
  if (key === 'id' && typeof value === 'number' && context && context.source !== String(value)) {
    return new RawNumber(context.source);
  }
  return value;
}

function serialize(reply) {
  const id = reply.id instanceof RawNumber ? reply.id.source : JSON.stringify(reply.id);
  const body = reply.error ? { error: reply.error } : { result: reply.result };
  return '{"jsonrpc":"2.0","id":' + id + ',' + JSON.stringify(body).slice(1);
}

function validId(id) {
  return typeof id === 'string' || typeof id === 'number' || id instanceof RawNumber;
}

function error(id, code, message) {
  return { jsonrpc: '2.0', id, error: { code, message } };
}

const METHODS = {
  initialize: () => ({
    protocolVersion: PROTOCOL,
    capabilities: { tools: {} },
    serverInfo: { name: 'magic-js', version: '1.0.0' },
  }),
  ping: () => ({}),
  'tools/list': () => ({ tools: TOOLS }),
  'tools/call': (params) => {
    if (params.name !== 'inspect') throw { code: -32602, message: 'Unknown tool' };
    const args = params.arguments;
    if (!args || typeof args !== 'object' || typeof args.value !== 'string') {
      throw { code: -32602, message: 'Invalid params: value must be a string' };
    }
    return { content: [{ type: 'text', text: inspect(args.value) }], isError: false };
  },
};

// The reply to one message, or null: the same rules as testbed/jsonline.py.
function handle(msg) {
  if (msg === null || typeof msg !== 'object' || Array.isArray(msg)) {
    return error(null, -32600, 'Invalid Request');
  }
  const has = (key) => Object.prototype.hasOwnProperty.call(msg, key);
  const id = msg.id;
  const replyId = has('id') && validId(id) ? id : null;
  if (!has('method')) {
    if (has('result') || has('error')) return null; // a reply; this server never asks
    return error(replyId, -32600, 'Invalid Request: no method');
  }
  if (msg.jsonrpc !== '2.0') return error(replyId, -32600, 'Invalid Request: jsonrpc must be "2.0"');
  if (typeof msg.method !== 'string') {
    return error(replyId, -32600, 'Invalid Request: method must be a string');
  }
  if (!has('id')) return null; // a notification: never answered
  if (!validId(id)) return error(null, -32600, 'Invalid Request: id must be a string or a number');
  let params = msg.params;
  if (has('params') && (params === null || typeof params !== 'object')) {
    return error(id, -32600, 'Invalid Request: params must be an object or an array');
  }
  if (!Object.prototype.hasOwnProperty.call(METHODS, msg.method)) {
    return error(id, -32601, 'Method not found');
  }
  if (params === undefined) params = {};
  if (Array.isArray(params)) return error(id, -32602, 'Invalid params: params must be an object');
  try {
    return { jsonrpc: '2.0', id, result: METHODS[msg.method](params) };
  } catch (thrown) {
    if (thrown instanceof Error) throw thrown;
    return error(id, thrown.code, thrown.message);
  }
}

function answer(line) {
  let msg;
  try {
    msg = JSON.parse(line, reviver);
  } catch (_) {
    return serialize(error(null, -32700, 'Parse error'));
  }
  if (!Array.isArray(msg)) {
    const reply = handle(msg);
    return reply === null ? null : serialize(reply);
  }
  if (msg.length === 0) return serialize(error(null, -32600, 'Invalid Request: empty batch'));
  const replies = msg.map(handle).filter((reply) => reply !== null);
  return replies.length ? '[' + replies.map(serialize).join(',') + ']' : null;
}

// Lines end at "\n" only: readline would also end one at a lone "\r", which JSON-RPC
// over stdio does not.
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
let pending = Buffer.alloc(0);
process.stdin.on('data', (chunk) => {
  pending = Buffer.concat([pending, chunk]);
  let end;
  while ((end = pending.indexOf(0x0a)) !== -1) {
    let line;
    try {
      line = UTF8.decode(pending.subarray(0, end));
    } catch (_) {
      line = null; // not UTF-8: not JSON text
    }
    pending = pending.subarray(end + 1);
    if (line !== null && line.trim() === '') continue;
    const reply = line === null ? serialize(error(null, -32700, 'Parse error')) : answer(line);
    if (reply !== null) process.stdout.write(reply + '\n');
  }
});
process.stdin.on('end', () => process.exit(0));
