#!/usr/bin/env node
'use strict';
/*
 * Magic-value MCP server: a coverage benchmark fixture for mcpfuzz (no dependencies).
 *
 * Newline-delimited JSON-RPC 2.0 on stdin/stdout: initialize, notifications/initialized,
 * ping, tools/list and tools/call with one tool, `inspect {value: string}`. The handler
 * compares the value with a six-character secret one character at a time in nested ifs,
 * so that a coverage-guided fuzzer sees every extra matching character as a new block.
 * A value that starts with all six characters makes the process abort (SIGABRT). The
 * secret is built from character codes and appears in no schema, description or reply.
 * Every other input gets a normal reply.
 */
const readline = require('readline');

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

function handle(msg) {
  if (msg === null || typeof msg !== 'object' || Array.isArray(msg)) {
    return { jsonrpc: '2.0', id: null, error: { code: -32600, message: 'Invalid Request' } };
  }
  if (!Object.prototype.hasOwnProperty.call(msg, 'id')) {
    return null; // notifications
  }
  const id = msg.id;
  const params = msg.params && typeof msg.params === 'object' ? msg.params : {};
  let reply;
  if (msg.method === 'initialize') {
    reply = {
      protocolVersion: PROTOCOL,
      capabilities: { tools: {} },
      serverInfo: { name: 'magic-js', version: '1.0.0' },
    };
  } else if (msg.method === 'ping') {
    reply = {};
  } else if (msg.method === 'tools/list') {
    reply = { tools: TOOLS };
  } else if (msg.method === 'tools/call' && params.name === 'inspect') {
    const args = params.arguments;
    if (args && typeof args.value === 'string') {
      reply = { content: [{ type: 'text', text: inspect(args.value) }], isError: false };
    } else {
      reply = { content: [{ type: 'text', text: 'value must be a string' }], isError: true };
    }
  } else if (msg.method === 'tools/call') {
    return { jsonrpc: '2.0', id, error: { code: -32602, message: 'Unknown tool' } };
  } else {
    return { jsonrpc: '2.0', id, error: { code: -32601, message: 'Method not found' } };
  }
  return { jsonrpc: '2.0', id, result: reply };
}

const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
lines.on('line', (line) => {
  if (line.trim() === '') return;
  let reply;
  try {
    reply = handle(JSON.parse(line));
  } catch (_) {
    reply = { jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } };
  }
  if (reply !== null) process.stdout.write(JSON.stringify(reply) + '\n');
});
lines.on('close', () => process.exit(0));
