import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createEmulator, FaultsError, parseFaultsJson, startEmulator, type RunningEmulator } from '../../src/emulator/index.js';
import { ROOT } from '../../src/paths.js';
import { call } from './helpers/emulator-client.js';

describe('parseFaultsJson (EMULATOR_FAULTS)', () => {
  it('treats missing or blank as no faults, with defaults filled in', () => {
    expect(parseFaultsJson(undefined)).toMatchObject({ seed: 'emulator', lineErrorRate: 0, expireNextBatches: 0, stuck: null, timings: null });
    expect(parseFaultsJson('  ')).toMatchObject({ lineErrorRate: 0 });
  });

  it('reads every kind of fault', () => {
    const faults = parseFaultsJson(
      JSON.stringify({
        seed: 'run-7',
        lineErrorRate: 0.1,
        lineErrorStatus: 500,
        expireNextBatches: 1,
        expireCompletedFraction: 0.3,
        failNextBatches: 2,
        stuck: { phase: 'finalizing', batches: 1, forMs: 5000 },
        unknownStatus: { status: 'paused', batches: 1 },
        uploadFailures: { count: 2, status: 429 },
        createBatchFailures: { count: 1, status: 500, created: true },
        chatFailures: { count: 1, status: 503 },
        deleteFileFailures: { count: 2, status: 500 },
        listBatchesFailures: { count: 1, status: 429 },
        malformedOutputRate: 0.05,
        outOfRangeOutputRate: 0.05,
        refusalRate: 0.01,
        timings: { inProgressMs: 60_000 },
      }),
    );
    expect(faults).toMatchObject({ seed: 'run-7', stuck: { phase: 'finalizing', batches: 1, forMs: 5000 }, timings: { inProgressMs: 60_000 } });
  });

  it('names each problem in bad input', () => {
    const problems = (json: string) => {
      try {
        parseFaultsJson(json);
      } catch (err) {
        if (err instanceof FaultsError) return err.problems;
        throw err;
      }
      throw new Error('expected a FaultsError');
    };
    expect(problems('{lineErrorRate: 1}')[0]).toMatch(/^not valid JSON/);
    expect(problems('{"lineErrorRate": 1.5}')).toEqual([expect.stringMatching(/^lineErrorRate: Too big/)]);
    expect(problems('{"lineErorRate": 0.5}')).toEqual([expect.stringMatching(/Unrecognized key.*lineErorRate/)]);
    expect(problems('{"uploadFailures": {"count": 1, "status": 404}}')).toEqual([expect.stringMatching(/^uploadFailures.status/)]);
    expect(problems('{"deleteFileFailures": {"count": 0, "status": 500}}')).toEqual([expect.stringMatching(/^deleteFileFailures.count/)]);
    expect(problems('{"stuck": {"phase": "in_progress", "batches": 1}}')).toEqual([expect.stringMatching(/^stuck.phase/)]);
    expect(problems('[]')).toEqual([expect.stringMatching(/^\(root\)/)]);
  });

  it('makes createEmulator refuse bad faults, and faults given twice', () => {
    expect(() => createEmulator({ faultsJson: '{"refusalRate": -1}' })).toThrow(FaultsError);
    expect(() => createEmulator({ faultsJson: '{"refusalRate": -1}' })).toThrow(/^Invalid EMULATOR_FAULTS: refusalRate: /);
    expect(() => createEmulator({ faults: {}, faultsJson: '{}' })).toThrow(/not both/);
  });
});

describe('admin endpoints', () => {
  let emu: RunningEmulator;
  beforeAll(async () => {
    emu = await startEmulator({ faults: { failNextBatches: 1 }, timings: { validatingMs: 0, inProgressMs: 0, finalizingMs: 0 } });
  });
  afterAll(async () => {
    await emu.close();
  });

  it('GET /__emulator/faults shows the faults, counters included', async () => {
    const res = await call(emu.url, 'GET', '/__emulator/faults', undefined, {});
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ faults: { failNextBatches: 1 } });
  });

  it('POST /__emulator/faults replaces them, and refuses bad ones with a 400 naming the field', async () => {
    const ok = await call(emu.url, 'POST', '/__emulator/faults', { lineErrorRate: 0.25 }, {});
    expect(ok.body).toMatchObject({ faults: { lineErrorRate: 0.25, failNextBatches: 0 } });
    const bad = await call(emu.url, 'POST', '/__emulator/faults', { lineErrorRate: 'lots' }, {});
    expect(bad.status).toBe(400);
    expect(bad.body).toEqual({ error: { message: expect.stringMatching(/^Invalid emulator faults: lineErrorRate: /), type: 'invalid_request_error', param: null, code: 'invalid_faults' } });
    expect(emu.getFaults().lineErrorRate).toBe(0.25);
  });

  it('POST /__emulator/reset forgets files, batches and faults', async () => {
    const form = new FormData();
    form.append('purpose', 'batch');
    form.append('file', new Blob(['{}\n']), 'a.jsonl');
    await fetch(`${emu.apiBaseUrl}/files`, { method: 'POST', headers: { authorization: 'Bearer k' }, body: form });
    expect((await call(emu.url, 'GET', '/__emulator/health', undefined, {})).body).toEqual({ ok: true, files: 1, batches: 0, messageBatches: 0 });
    expect((await call(emu.url, 'POST', '/__emulator/reset', undefined, {})).body).toEqual({ ok: true });
    expect((await call(emu.url, 'GET', '/__emulator/health', undefined, {})).body).toEqual({ ok: true, files: 0, batches: 0, messageBatches: 0 });
    expect(emu.getFaults().lineErrorRate).toBe(0);
  });

  it('deleteFileFailures refuses the next N deletions (429 with retry-after, 500) before looking the file up, then deletes as the API does', async () => {
    const form = new FormData();
    form.append('purpose', 'batch');
    form.append('file', new Blob(['{}\n']), 'a.jsonl');
    const file = (await (await fetch(`${emu.apiBaseUrl}/files`, { method: 'POST', headers: { authorization: 'Bearer k' }, body: form })).json()) as { id: string };
    emu.setFaults({ deleteFileFailures: { count: 2, status: 429 } });
    const limited = await call(emu.apiBaseUrl, 'DELETE', `/files/${file.id}`);
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('1');
    expect(limited.body).toMatchObject({ error: { type: 'requests', code: 'rate_limit_exceeded' } });
    // Before the lookup: an unknown id meets the fault too (the counter is used up either way).
    expect((await call(emu.apiBaseUrl, 'DELETE', '/files/file-unknown')).status).toBe(429);
    expect(emu.getFaults().deleteFileFailures).toBeNull();
    expect((await call(emu.apiBaseUrl, 'GET', `/files/${file.id}`)).status).toBe(200);

    emu.setFaults({ deleteFileFailures: { count: 1, status: 500 } });
    const failed = await call(emu.apiBaseUrl, 'DELETE', `/files/${file.id}`);
    expect(failed.status).toBe(500);
    expect(failed.body).toMatchObject({ error: { type: 'server_error' } });
    expect((await call(emu.apiBaseUrl, 'DELETE', `/files/${file.id}`)).body).toEqual({ id: file.id, object: 'file', deleted: true });
    // Gone: a second delete, a read and its content are 404s in the error envelope.
    const again = await call(emu.apiBaseUrl, 'DELETE', `/files/${file.id}`);
    expect(again.status).toBe(404);
    expect(again.body).toEqual({ error: { message: `No such File object: ${file.id}`, type: 'invalid_request_error', param: 'id', code: null } });
    expect((await call(emu.apiBaseUrl, 'GET', `/files/${file.id}`)).status).toBe(404);
    expect((await call(emu.apiBaseUrl, 'GET', `/files/${file.id}/content`)).status).toBe(404);
  });

  it('listBatchesFailures refuses the next N batch listings at OpenAI and Anthropic alike, then lists as the API does', async () => {
    const anthropic = { 'x-api-key': 'k', 'anthropic-version': '2023-06-01' };
    emu.setFaults({ listBatchesFailures: { count: 2, status: 429 } });
    const limited = await call(emu.apiBaseUrl, 'GET', '/batches?limit=1');
    expect(limited.status).toBe(429);
    expect(limited.body).toMatchObject({ error: { code: 'rate_limit_exceeded' } });
    const overloaded = await call(emu.apiBaseUrl, 'GET', '/messages/batches?limit=1', undefined, anthropic);
    expect(overloaded.status).toBe(429);
    expect(overloaded.body).toMatchObject({ type: 'error', error: { type: 'rate_limit_error' } });
    expect(emu.getFaults().listBatchesFailures).toBeNull();
    expect((await call(emu.apiBaseUrl, 'GET', '/batches?limit=1')).body).toMatchObject({ object: 'list' });
    expect((await call(emu.apiBaseUrl, 'GET', '/messages/batches?limit=1', undefined, anthropic)).status).toBe(200);

    emu.setFaults({ listBatchesFailures: { count: 1, status: 500 } });
    const failed = await call(emu.apiBaseUrl, 'GET', '/batches');
    expect(failed.status).toBe(500);
    expect(failed.body).toMatchObject({ error: { type: 'server_error' } });
    expect((await call(emu.apiBaseUrl, 'GET', '/batches')).status).toBe(200);
  });

  it('answers unknown paths outside /v1 with the error envelope', async () => {
    const res = await call(emu.url, 'GET', '/nothing', undefined, {});
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ error: { message: expect.stringMatching(/under \/v1/) } });
  });
});

describe('npm run emulator (src/emulator/main.ts)', () => {
  function run(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string; url: string | null }> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/emulator/main.ts'], {
        cwd: ROOT,
        env: {
          PATH: process.env.PATH ?? '',
          LTI_KEY: 'k'.repeat(40),
          ENCRYPTION_KEY: Buffer.alloc(32, 7).toString('base64'),
          EMULATOR_PORT: '0',
          LOG_LEVEL: 'silent',
          ...env,
        },
      });
      let stdout = '';
      let stderr = '';
      let url: string | null = null;
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        const m = /Emulator: (http:\/\/\S+)/.exec(stdout);
        if (m?.[1] && !url) {
          url = m[1];
          void fetch(`${url}/__emulator/health`)
            .then((r) => r.json())
            .then((body) => {
              stdout += `\nhealth: ${JSON.stringify(body)}\n`;
              child.kill('SIGTERM');
            });
        }
      });
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', reject);
      child.on('exit', (code) => resolve({ code, stdout, stderr, url }));
    });
  }

  it('prints its URL, serves, and stops cleanly on SIGTERM', async () => {
    const result = await run({ EMULATOR_FAULTS: '{"refusalRate": 0.1}' });
    expect(result.stdout).toMatch(/^Emulator: http:\/\/127\.0\.0\.1:\d+$/m);
    expect(result.stdout).toMatch(/Faults: \{"refusalRate":0.1\}/);
    expect(result.stdout).toMatch(/health: \{"ok":true/);
    expect(result.code).toBe(0);
  }, 20_000);

  it('exits with a message naming EMULATOR_FAULTS when it is invalid', async () => {
    const result = await run({ EMULATOR_FAULTS: '{"refusalRate": 2}' });
    expect(result.code).toBe(1);
    expect(result.url).toBeNull();
    expect(result.stderr).toMatch(/^EMULATOR_FAULTS is invalid: refusalRate: Too big/m);
  }, 20_000);
});
