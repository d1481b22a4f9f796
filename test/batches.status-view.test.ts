import { describe, expect, it } from '@jest/globals';
import { batchStatusView } from '../src/routes/queue.present.js';

/** Issue 18, item 7: a batch's status says what happened to its requests, not only that the provider stopped. */
describe('what a batch\'s status says', () => {
  const batch = (status: string, completed: number, failed: number, total = completed + failed) =>
    ({ status, submitRequestedAt: null, requestTotal: total, requestCompleted: completed, requestFailed: failed }) as Parameters<typeof batchStatusView>[0];

  it('calls a batch whose every request failed "Failed", in the failure colour', () => {
    expect(batchStatusView(batch('completed', 0, 1))).toEqual({ label: 'Failed: none of the 1 request succeeded', tone: 'failed' });
    expect(batchStatusView(batch('completed', 0, 12))).toEqual({ label: 'Failed: none of the 12 requests succeeded', tone: 'failed' });
  });

  it('calls a batch with some failures "Completed with failures", not a green "Completed"', () => {
    expect(batchStatusView(batch('completed', 9, 3))).toEqual({ label: 'Completed with failures (3 of 12 failed)', tone: 'partial' });
  });

  it('keeps the plain words for everything else', () => {
    expect(batchStatusView(batch('completed', 12, 0))).toEqual({ label: 'Completed', tone: 'completed' });
    expect(batchStatusView(batch('expired', 3, 0, 10))).toEqual({ label: 'Expired', tone: 'expired' });
    expect(batchStatusView({ ...batch('created', 0, 0, 10), submitRequestedAt: new Date() })).toEqual({ label: 'Confirmed, being sent', tone: 'created' });
  });
});
