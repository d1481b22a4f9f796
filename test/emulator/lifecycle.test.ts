import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { AUTH, call, gradingBody, jsonl, parseJsonl, requestLine, submissionFor, upload } from './helpers/emulator-client.js';

/**
 * The batch lifecycle is computed from timestamps on each read; with a fake clock a test walks a batch through
 * every phase, the 24-hour window included, without waiting.
 */

const T0 = 1_800_000_000_000;
let now = T0;
let emu: RunningEmulator;
let v1: string;

beforeAll(async () => {
  emu = await startEmulator({ clock: () => now, timings: { validatingMs: 1000, inProgressMs: 10_000, finalizingMs: 2000 } });
  v1 = emu.apiBaseUrl;
});

afterAll(async () => {
  await emu.close();
});

beforeEach(() => {
  emu.reset();
  now = T0;
});

type Batch = Record<string, unknown> & { id: string; status: string; request_counts: { total: number; completed: number; failed: number } };

async function create(n: number): Promise<string> {
  const lines = Array.from({ length: n }, (_, i) => requestLine(`r-${i}`, gradingBody(submissionFor(i))));
  const file = (await upload(v1, jsonl(lines))).body as { id: string };
  const batch = (await call(v1, 'POST', '/batches', { input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' })).body as Batch;
  // The runner works in real time, in the background; wait until it has answered every line it will answer.
  const record = emu.emulator.context.store.batches.get(batch.id);
  for (let i = 0; i < 400 && record && record.gradedAtMs === null && !(record.validation && !record.validation.ok) && !record.cancel; i += 1) {
    await new Promise((r) => setTimeout(r, 5));
  }
  return batch.id;
}

async function at(ms: number, id: string): Promise<Batch> {
  now = T0 + ms;
  return (await call(v1, 'GET', `/batches/${id}`)).body as Batch;
}

async function content(fileId: unknown): Promise<unknown[]> {
  if (typeof fileId !== 'string') return [];
  return parseJsonl(await (await fetch(`${v1}/files/${fileId}/content`, { headers: AUTH })).text());
}

const sec = (ms: number) => Math.floor((T0 + ms) / 1000);

describe('batch lifecycle on a fake clock', () => {
  it('walks validating → in_progress (counts growing) → finalizing → completed, with each timestamp', async () => {
    const id = await create(10);
    expect(await at(500, id)).toMatchObject({ status: 'validating', in_progress_at: null, request_counts: { total: 0, completed: 0, failed: 0 } });
    expect(await at(1000, id)).toMatchObject({ status: 'in_progress', in_progress_at: sec(1000), request_counts: { total: 10, completed: 0, failed: 0 } });
    expect(await at(6000, id)).toMatchObject({ status: 'in_progress', request_counts: { total: 10, completed: 5, failed: 0 }, output_file_id: null });
    const halfway = await at(6000, id);
    expect((halfway.usage as { input_tokens: number }).input_tokens).toBeGreaterThan(0);
    expect(await at(11_000, id)).toMatchObject({ status: 'finalizing', finalizing_at: sec(11_000), request_counts: { completed: 10 } });
    const done = await at(13_000, id);
    expect(done).toMatchObject({ status: 'completed', completed_at: sec(13_000), created_at: sec(0), expires_at: sec(86_400_000) });
    expect(await content(done.output_file_id)).toHaveLength(10);
    // Once terminal, the outcome is frozen.
    expect(await at(90_000_000, id)).toEqual(done);
  });

  it('cancel mid-way: finished lines keep their results, the rest are batch_cancelled', async () => {
    const id = await create(10);
    now = T0 + 5000; // 40% through in_progress
    const cancelling = (await call(v1, 'POST', `/batches/${id}/cancel`)).body as Batch;
    expect(cancelling).toMatchObject({ status: 'cancelling', cancelling_at: sec(5000), in_progress_at: sec(1000) });
    expect(await at(6000, id)).toMatchObject({ status: 'cancelling' });
    const done = await at(7000, id);
    expect(done).toMatchObject({ status: 'cancelled', cancelled_at: sec(7000), request_counts: { total: 10, completed: 4, failed: 6 } });
    expect(await content(done.output_file_id)).toHaveLength(4);
    const errors = await content(done.error_file_id);
    expect(errors).toHaveLength(6);
    expect(errors.every((l) => (l as { error: { code: string } }).error.code === 'batch_cancelled')).toBe(true);
  });

  it('cancel while validating: cancelled with nothing run', async () => {
    const id = await create(3);
    now = T0 + 200;
    await call(v1, 'POST', `/batches/${id}/cancel`);
    const done = await at(2200, id);
    expect(done).toMatchObject({ status: 'cancelled', in_progress_at: null, output_file_id: null, error_file_id: null });
  });

  it('cancel while finalizing: everything had run, so the results are all there', async () => {
    emu.setFaults({ stuck: { phase: 'finalizing', batches: 1, forMs: null } });
    const id = await create(4);
    expect(await at(20_000, id)).toMatchObject({ status: 'finalizing' });
    now = T0 + 20_000;
    await call(v1, 'POST', `/batches/${id}/cancel`);
    const done = await at(22_000, id);
    expect(done).toMatchObject({ status: 'cancelled', finalizing_at: sec(11_000), request_counts: { total: 4, completed: 4, failed: 0 } });
    expect(await content(done.output_file_id)).toHaveLength(4);
  });

  it('stuck in validating until the 24-hour window closes: expired, nothing run', async () => {
    emu.setFaults({ stuck: { phase: 'validating', batches: 1, forMs: null } });
    const id = await create(3);
    expect(await at(86_399_000, id)).toMatchObject({ status: 'validating' });
    expect(await at(86_400_000, id)).toMatchObject({ status: 'expired', expired_at: sec(86_400_000), output_file_id: null, error_file_id: null });
  });

  it('stuck in validating for a while, then carries on', async () => {
    emu.setFaults({ stuck: { phase: 'validating', batches: 1, forMs: 60_000 } });
    const id = await create(2);
    expect(await at(30_000, id)).toMatchObject({ status: 'validating' });
    expect(await at(61_000, id)).toMatchObject({ status: 'in_progress', in_progress_at: sec(61_000) });
    expect(await at(73_000, id)).toMatchObject({ status: 'completed' });
  });

  it('still in progress when the window closes: expired with the finished half and batch_expired lines', async () => {
    emu.setFaults({ timings: { validatingMs: 0, inProgressMs: 2 * 86_400_000, finalizingMs: 0 } });
    const id = await create(10);
    const done = await at(86_400_000, id);
    expect(done).toMatchObject({ status: 'expired', request_counts: { total: 10, completed: 5, failed: 5 } });
    const errors = await content(done.error_file_id);
    expect(errors.map((l) => (l as { error: { code: string } }).error.code)).toEqual(Array(5).fill('batch_expired'));
  });

  it('uses the timings in force when a batch was created (fault override), not later changes', async () => {
    emu.setFaults({ timings: { inProgressMs: 100_000 } });
    const id = await create(2);
    emu.setFaults({});
    expect(await at(50_000, id)).toMatchObject({ status: 'in_progress' });
    expect(await at(103_000, id)).toMatchObject({ status: 'completed' });
  });
});
