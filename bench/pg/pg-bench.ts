/**
 * pg throughput: pack + fragment on a sender, reassemble on a receiver, in one process with
 * no ordering layer in between (frames go straight from the sender's channel to the
 * receiver). Recorders are on, as in production. Figures only, never pass/fail.
 *
 *   node dist/bench/pg/pg-bench.js [--json] [--seconds 1] [--sizes 64,1024]
 */

import { performance } from 'node:perf_hooks';
import { Guarantee, type OrderedChannel } from '../../src/core/io.js';
import { DEFAULT_FRAME_SIZE } from '../../src/pg/budget.js';
import { ProcessGroups } from '../../src/pg/process-groups.js';
import { Recorder } from '../../src/recorder/recorder.js';

const SIZES = [64, 256, 1024, 4096, 16384, 65536];

class SinkChannel implements OrderedChannel {
  readonly frames: Uint8Array[] = [];
  readonly maxPayload = DEFAULT_FRAME_SIZE;
  constructor(private readonly capacity: number) {}
  mcast(payload: Uint8Array): boolean {
    if (this.frames.length >= this.capacity) return false;
    this.frames.push(payload);
    return true;
  }
  sendQueueRoom(): number {
    return this.capacity - this.frames.length;
  }
}

interface Row {
  size: number;
  messages: number;
  seconds: number;
  msgsPerSec: number;
  mbPerSec: number;
  framesPerMsg: number;
  wireOverheadPct: number;
}

function run(size: number, seconds: number): Row {
  const channel = new SinkChannel(512);
  const sender = new ProcessGroups({ channel, recorder: new Recorder({ virtualClock: true }), nodeId: 1 });
  const receiver = new ProcessGroups({
    channel: new SinkChannel(0),
    recorder: new Recorder({ virtualClock: true }),
    nodeId: 2,
  });
  let delivered = 0;
  let deliveredBytes = 0;
  receiver.join('bench', {
    deliver(_g, _s, message) {
      delivered++;
      deliveredBytes += message.length;
    },
  });
  const payload = new Uint8Array(size).fill(0x5a);
  // Three pieces, one empty, as services send them (header, body, empty tail).
  const pieces = [payload.subarray(0, 16), payload.subarray(16), new Uint8Array(0)];
  const ring = { rep: 1, seq: 1 };
  let seq = 0;
  let frames = 0;
  let wireBytes = 0;
  const start = performance.now();
  let now = start;
  while (now - start < seconds * 1000) {
    for (let batch = 0; batch < 4; batch++) {
      for (;;) {
        const r = sender.send('bench', pieces, Guarantee.Agreed);
        if (r.kind !== 'ok') break;
      }
      sender.tokenVisit();
      for (const frame of channel.frames) {
        frames++;
        wireBytes += frame.length;
        receiver.deliver(1, frame, Guarantee.Agreed, ring, ++seq);
      }
      channel.frames.length = 0;
    }
    now = performance.now();
  }
  const elapsed = (now - start) / 1000;
  return {
    size,
    messages: delivered,
    seconds: Number(elapsed.toFixed(3)),
    msgsPerSec: Math.round(delivered / elapsed),
    mbPerSec: Number((deliveredBytes / elapsed / 1e6).toFixed(1)),
    framesPerMsg: Number((frames / delivered).toFixed(3)),
    wireOverheadPct: Number((((wireBytes - deliveredBytes) / deliveredBytes) * 100).toFixed(2)),
  };
}

function main(): void {
  const args = process.argv.slice(2);
  const json = args.includes('--json');
  const at = args.indexOf('--seconds');
  const seconds = at >= 0 ? Number(args[at + 1]) : 1;
  const sizesAt = args.indexOf('--sizes');
  const sizes = sizesAt >= 0 ? args[sizesAt + 1]!.split(',').map(Number) : SIZES;
  const rows = sizes.map((size) => run(size, seconds));
  if (json) {
    console.log(
      JSON.stringify({ bench: 'pg', frameSize: DEFAULT_FRAME_SIZE, node: process.version, rows }, null, 2),
    );
    return;
  }
  console.log(`pg pack+fragment+reassemble, frame ${DEFAULT_FRAME_SIZE} B, node ${process.version}`);
  console.log('size      msgs/s       MB/s   frames/msg  wire overhead');
  for (const r of rows) {
    console.log(
      `${String(r.size).padStart(6)}  ${String(r.msgsPerSec).padStart(9)}  ${String(r.mbPerSec).padStart(9)}  ${String(r.framesPerMsg).padStart(11)}  ${String(r.wireOverheadPct).padStart(8)} %`,
    );
  }
}

main();
