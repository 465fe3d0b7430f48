// Proves on a real `countersign serve` process that every line it writes is JSON, that the operator token is never printed (the file holding it is named instead), that the log's request id is the Request-Id answered, and that an unreadable TLS file is named by its variable before any data directory is created.
import { access, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type ServerProcess, startServerProcess } from '../support/processes.js';
import { seedDataDirectory } from '../support/seeded-data-directory.js';

describe('the server process', { timeout: 600_000 }, () => {
  let root: string;
  let dataDir: string;
  let server: ServerProcess | undefined;

  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'countersign-output-'));
    dataDir = path.join(root, 'data');
    await mkdir(dataDir, { mode: 0o700 });
    await seedDataDirectory(dataDir);
  });
  afterAll(async () => {
    await server?.stop();
    await rm(root, { recursive: true, force: true });
  });

  it('writes JSON lines only, names the operator token file, and logs the Request-Id it answers', async () => {
    server = await startServerProcess({ DATA_DIR: dataDir, LOG_LEVEL: 'info' });
    const token = (await readFile(path.join(dataDir, 'operator.token'), 'utf8')).trim();
    const probe = await fetch(`${server.url}/livez`, { headers: { 'x-request-id': 'probe-42' } });
    expect(probe.status).toBe(200);
    expect(probe.headers.get('request-id')).toBe('probe-42');
    const metrics = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('countersign_http_request_duration_seconds');
    expect((await fetch(`${server.url}/metrics`)).status).toBe(401);
    await server.stop();

    const lines = server
      .output()
      .split('\n')
      .filter((line) => line !== '');
    expect(lines.length).toBeGreaterThan(3);
    const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(server.output()).not.toContain(token);
    expect(entries.some((entry) => entry['operatorTokenFile'] === path.join(dataDir, 'operator.token'))).toBe(
      true,
    );
    expect(entries.some((entry) => entry['reqId'] === 'probe-42')).toBe(true);
  });

  it('names an unreadable TLS_CERT and creates no data directory', async () => {
    const fresh = path.join(root, 'never-created');
    const result = await runCli(['serve'], {
      DATA_DIR: fresh,
      PORT: '0',
      TLS_CERT: path.join(root, 'missing-cert.pem'),
      TLS_KEY: path.join(root, 'missing-key.pem'),
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('TLS_CERT');
    await expect(access(fresh)).rejects.toThrow();
  });
});
