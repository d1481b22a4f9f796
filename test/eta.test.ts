import { describe, expect, it } from '@jest/globals';
import { DEFAULT_CADENCE_MS, describeEta, etaForBatched, etaForQueued, type Throughput } from '../src/models/queue/eta.js';

/** The student's ETA: rounds of batching at the observed cadence and size, plus the observed turnaround. */
describe('ETA estimator', () => {
  const hour = 3_600_000;
  const now = new Date('2026-01-10T12:00:00Z');
  const t: Throughput = { cadenceMs: 6 * hour, batchSize: 100, turnaroundMs: 2 * hour, lastBatchAt: new Date('2026-01-10T10:00:00Z'), observed: { cadence: true, turnaround: true } };

  it('puts the next 100 items in the next round (one cadence after the last batch) plus the turnaround', () => {
    expect(etaForQueued(1, t, now).toISOString()).toBe('2026-01-10T18:00:00.000Z'); // 10:00 + 6 h + 2 h
    expect(etaForQueued(100, t, now).toISOString()).toBe('2026-01-10T18:00:00.000Z');
  });

  it('adds one cadence per later round', () => {
    expect(etaForQueued(101, t, now).toISOString()).toBe('2026-01-11T00:00:00.000Z');
    expect(etaForQueued(250, t, now).toISOString()).toBe('2026-01-11T06:00:00.000Z');
  });

  it('counts from now when the expected round is overdue, and a cadence from now without any history', () => {
    const overdue = { ...t, lastBatchAt: new Date('2026-01-09T00:00:00Z') };
    expect(etaForQueued(1, overdue, now).toISOString()).toBe('2026-01-10T14:00:00.000Z');
    const none = { ...t, lastBatchAt: null, cadenceMs: DEFAULT_CADENCE_MS };
    expect(etaForQueued(1, none, now).getTime()).toBe(now.getTime() + DEFAULT_CADENCE_MS + 2 * hour);
  });

  it('waits only for the turnaround once in a batch, never promising the past', () => {
    expect(etaForBatched(new Date('2026-01-10T11:00:00Z'), t, now).toISOString()).toBe('2026-01-10T13:00:00.000Z');
    expect(etaForBatched(new Date('2026-01-09T00:00:00Z'), t, now).getTime()).toBe(now.getTime() + 60_000);
    expect(etaForBatched(null, t, now).toISOString()).toBe('2026-01-10T14:00:00.000Z');
  });

  it('says it coarsely', () => {
    expect(describeEta(new Date(now.getTime() + 30_000), now)).toBe('within a few minutes');
    expect(describeEta(new Date(now.getTime() + 23 * 60_000), now)).toBe('in about 25 minutes');
    expect(describeEta(new Date(now.getTime() + 1 * hour), now)).toBe('in about 1 hour');
    expect(describeEta(new Date(now.getTime() + 30 * hour), now)).toBe('in about 30 hours');
    expect(describeEta(new Date(now.getTime() + 72 * hour), now)).toBe('in about 3 days');
  });
});
