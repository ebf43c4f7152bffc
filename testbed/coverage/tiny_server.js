#!/usr/bin/env node
'use strict';
/*
 * Tiny MCP server: a fixture for mcpfuzz's Node coverage bridge (no dependencies).
 *
 * Newline-delimited JSON-RPC 2.0 on stdin/stdout: initialize, notifications/initialized,
 * ping, tools/list and tools/call with one tool, `probe {text: string}`, whose handler
 * takes different code paths depending on the text (empty, digits, upper case, long,
 * `busy:` prefix spinning synchronously for 200 ms, anything else). Nothing else is ever
 * printed.
 */
const readline = require('readline');

const PROTOCOL = '2025-06-18';
const TOOLS = [
  {
    name: 'probe',
    description: 'Probes a text',
    inputSchema: {
      type: 'object',
      properties: { text: { type: 'string' } },
      required: ['text'],
    },
  },
];

function classifyNumber(text) {
  const n = Number(text);
  let kind;
  if (n % 2 === 0) {
    kind = 'even';
  } else {
    kind = 'odd';
  }
  if (n > 1000) {
    kind += ', large';
  }
  return kind;
}

function countVowels(text) {
  let total = 0;
  for (const ch of text) {
    if ('aeiouAEIOU'.includes(ch)) {
      total += 1;
    }
  }
  return total;
}

function probe(text) {
  if (text.length === 0) {
    return 'empty text';
  }
  if (text.startsWith('busy:')) {
    const deadline = Date.now() + 200;
    while (Date.now() < deadline) {
      // spin
    }
    return 'was busy';
  }
  if (/^[0-9]+$/.test(text)) {
    return 'number: ' + classifyNumber(text);
  }
  if (text === text.toUpperCase() && text !== text.toLowerCase()) {
    return 'shouting';
  }
  if (text.length > 8) {
    return 'long text with ' + countVowels(text) + ' vowels';
  }
  return 'short text';
}

function error(id, code, message) {
  return { jsonrpc: '2.0', id, error: { code, message } };
}

function handle(msg) {
  if (msg === null || typeof msg !== 'object' || Array.isArray(msg)) {
    return error(null, -32600, 'Invalid Request');
  }
  const isRequest = Object.prototype.hasOwnProperty.call(msg, 'id');
  const id = isRequest ? msg.id : null;
  if (typeof msg.method !== 'string') {
    return error(id, -32600, 'Invalid Request');
  }
  const params = msg.params && typeof msg.params === 'object' ? msg.params : {};
  let reply;
  if (msg.method === 'initialize') {
    reply = {
      protocolVersion: PROTOCOL,
      capabilities: { tools: {} },
      serverInfo: { name: 'tiny-js', version: '1.0.0' },
    };
  } else if (msg.method === 'ping') {
    reply = {};
  } else if (msg.method === 'tools/list') {
    reply = { tools: TOOLS };
  } else if (msg.method === 'tools/call') {
    if (params.name !== 'probe') {
      return error(id, -32602, 'Unknown tool');
    }
    const args = params.arguments;
    if (!args || typeof args.text !== 'string') {
      reply = { content: [{ type: 'text', text: 'text must be a string' }], isError: true };
    } else {
      reply = { content: [{ type: 'text', text: probe(args.text) }], isError: false };
    }
  } else if (!isRequest) {
    return null; // notifications/initialized and any other notification
  } else {
    return error(id, -32601, 'Method not found');
  }
  return isRequest ? { jsonrpc: '2.0', id, result: reply } : null;
}

function send(msg) {
  process.stdout.write(JSON.stringify(msg) + '\n');
}

const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
lines.on('line', (line) => {
  if (line.trim() === '') return;
  let msg;
  try {
    msg = JSON.parse(line);
  } catch (_) {
    send(error(null, -32700, 'Parse error'));
    return;
  }
  const reply = handle(msg);
  if (reply !== null) send(reply);
});
lines.on('close', () => process.exit(0));
