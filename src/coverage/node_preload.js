'use strict';
/*
 * mcpfuzz coverage bridge for Node targets (node_preload.js, no dependencies).
 *
 * mcpfuzz writes this file into a temporary directory (best as a .cjs file, which is
 * CommonJS whatever a package.json above it says) and starts the target with
 * NODE_OPTIONS=--require "<that path>". NODE_OPTIONS is inherited, so every node process of
 * the target (an `npx` launcher and the server it starts, ...) loads it and connects on
 * its own; the fuzzer asks each connection and ORs the answers into its map.
 *
 * Contract with the fuzzer (the Rust side implements the other half):
 *
 *   MCPFUZZ_NODE_COV   path of a Unix stream socket the fuzzer listens on. Unset or
 *                      empty: this file does nothing.
 *   MCPFUZZ_COV_SIZE   map size, a power of two (default 65536); every index sent is
 *                      below it.
 *
 *   At startup (main thread only; worker threads are not covered) the preload opens an
 *   in-process inspector.Session, runs Profiler.enable and
 *   Profiler.startPreciseCoverage({callCount: true, detailed: true}), connects to the
 *   socket (the connection is unref'd: it never keeps the process alive) and sends
 *   the hello: the 4 ASCII bytes "MCPC" then the pid as a u32 LE.
 *
 *   Then, for every byte 'c' (0x63) it receives (other bytes are ignored), in order and
 *   as soon as the event loop is free, it calls Profiler.takePreciseCoverage (which also
 *   resets the counters) and replies: u32 LE n, then n distinct u32 LE indices. The
 *   first answer covers start-up and whatever ran since: ask once after the handshake
 *   and discard it; from then on each answer covers what ran since the previous one.
 *
 *   Indices: scripts whose url is empty, starts with "node:" or is this file are
 *   skipped, and so is every function whose own range (its first) has count 0. Each
 *   remaining function gives one index for its own range and one for every block range
 *   inside it with count 0:
 *       FNV-1a-32 over the UTF-16 code units of
 *           url + ":" + startOffset + ":" + endOffset + (count > 0 ? "" : ":0")
 *       & (MCPFUZZ_COV_SIZE - 1)
 *   V8 drops a block range whose count equals its parent's, so `if (x) {A}` run once
 *   with x true reports only the function's range, and with x false the function's
 *   range plus A's range at count 0. The blocks that ran are those of a function that
 *   ran outside its ranges at count 0: this set says which blocks ran and nothing about
 *   how often. Nested ranges with a count above 0 only appear when counts differ (x
 *   true once and false once gives A at count 1); they would turn every new mix of
 *   counts into new "edges", so they are left out.
 *
 *   Nothing is ever written to stdout (the JSON-RPC channel). On any error one line
 *   starting with "mcpfuzz-coverage:" goes to stderr, coverage stops, the target goes on.
 *   When the fuzzer closes the connection, coverage stops silently.
 */
(function mcpfuzzCoverage() {
  const socketPath = process.env.MCPFUZZ_NODE_COV;
  if (!socketPath) return;

  let warned = false;
  function warn(message) {
    if (warned) return;
    warned = true;
    try {
      process.stderr.write('mcpfuzz-coverage: ' + message + '\n');
    } catch (_) {
      // nothing left to tell
    }
  }

  let session = null;
  let sock = null;
  let stopped = false;
  function stop() {
    if (stopped) return;
    stopped = true;
    if (sock) sock.destroy();
    if (session) {
      try {
        session.post('Profiler.stopPreciseCoverage', () => {
          try { session.disconnect(); } catch (_) { /* already gone */ }
        });
      } catch (_) {
        // already gone
      }
    }
  }
  function fail(message) {
    warn(message);
    stop();
  }

  try {
    if (!require('worker_threads').isMainThread) return;
    const inspector = require('inspector');
    const net = require('net');
    const { pathToFileURL } = require('url');

    const sizeText = (process.env.MCPFUZZ_COV_SIZE || '').trim();
    const size = sizeText ? Number(sizeText) : 65536;
    if (!Number.isInteger(size) || size <= 0 || size > 0x80000000 || (size & (size - 1)) !== 0) {
      warn('coverage off: MCPFUZZ_COV_SIZE must be a power of two, not ' + JSON.stringify(sizeText));
      return;
    }
    const mask = (size - 1) >>> 0;
    const own = new Set([__filename, pathToFileURL(__filename).href]);

    session = new inspector.Session();
    session.connect();
    const started = (err) => { if (err) fail('coverage off: ' + (err.message || err)); };
    session.post('Profiler.enable', started);
    session.post('Profiler.startPreciseCoverage', { callCount: true, detailed: true }, started);
    if (stopped) return;

    // FNV-1a state after url + ":", per url.
    const urlState = new Map();
    function fnv(h, text) {
      for (let i = 0; i < text.length; i++) {
        h = Math.imul(h ^ text.charCodeAt(i), 16777619);
      }
      return h >>> 0;
    }

    function indices(result) {
      const seen = new Set();
      for (const script of result) {
        const url = script.url;
        if (!url || url.startsWith('node:') || own.has(url)) continue;
        let h0 = urlState.get(url);
        if (h0 === undefined) {
          h0 = fnv(0x811c9dc5, url + ':');
          urlState.set(url, h0);
        }
        for (const fn of script.functions) {
          const ranges = fn.ranges;
          if (ranges.length === 0 || ranges[0].count === 0) continue;
          for (let i = 0; i < ranges.length; i++) {
            const r = ranges[i];
            if (i > 0 && r.count > 0) continue;
            const key = r.startOffset + ':' + r.endOffset + (r.count > 0 ? '' : ':0');
            seen.add((fnv(h0, key) & mask) >>> 0);
          }
        }
      }
      const out = Buffer.allocUnsafe(4 + 4 * seen.size);
      out.writeUInt32LE(seen.size, 0);
      let at = 4;
      for (const index of seen) {
        out.writeUInt32LE(index, at);
        at += 4;
      }
      return out;
    }

    function answer() {
      if (stopped) return;
      session.post('Profiler.takePreciseCoverage', (err, res) => {
        if (stopped) return;
        if (err) return fail('takePreciseCoverage failed: ' + (err.message || err));
        let reply;
        try {
          reply = indices(res.result);
        } catch (e) {
          return fail('coverage failed: ' + (e && e.message));
        }
        sock.write(reply);
      });
    }

    sock = net.connect(socketPath);
    sock.unref();
    sock.on('error', (e) => fail('coverage socket ' + socketPath + ': ' + (e && e.message)));
    sock.on('close', () => stop());
    sock.on('end', () => stop());
    sock.on('data', (chunk) => {
      for (let i = 0; i < chunk.length; i++) {
        if (chunk[i] === 0x63) answer();
      }
    });
    const hello = Buffer.alloc(8);
    hello.write('MCPC', 0, 'latin1');
    hello.writeUInt32LE(process.pid >>> 0, 4);
    sock.write(hello);
  } catch (e) {
    fail('coverage off: ' + (e && e.message));
  }
})();
