// Proves, on PGlite and PostgreSQL, that audit entries commit or roll back with the caller's transaction, form a gapless hash chain even under concurrent appends, never carry secrets, cannot be rewritten while the trigger stands, and that verify finds every edit, removal and truncation at its position.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openTestDatabase, type TestDatabase, testEngines } from '../../../test/support/engines.js';
import {
  type AuditEventInput,
  canonicalAuditEntry,
  canonicalDetail,
  chainHash,
  extendChain,
  genesisHash,
  genesisPoint,
  prepareAuditEvent,
  type StoredAuditEntry,
  verifyChain,
  verifyHead,
} from '../../domain/audit.js';
import { ManualClock } from '../../domain/clock.js';
import { auditLimits } from '../../domain/limits.js';
import { sqlAuditStore } from '../../store/audit-repository.js';
import type { Database } from '../database.js';
import { newId } from '../ids.js';
import { AuditService, type AuditStore, sha256Hex } from './audit-service.js';

function loginFailed(subject: string, attempt: number): AuditEventInput {
  return { event: 'login_failed', subject, detail: { attempt, channel: 'web' } };
}

function buildChain(count: number): StoredAuditEntry[] {
  const events = Array.from({ length: count }, (_, index) =>
    prepareAuditEvent(newId(), loginFailed('alice', index + 1)),
  );
  return extendChain(sha256Hex, genesisPoint, events, Date.UTC(2026, 0, 1));
}

describe('audit chain rules', () => {
  it('hashes with SHA-256 (FIPS 180-2 vector for "abc")', () => {
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('hashes an entry from a fixed canonical text that includes the previous hash', () => {
    const fields = {
      id: '00000000-0000-4000-8000-000000000001',
      position: 1,
      event: 'payer_created',
      subject: 'alice',
      detailJson: canonicalDetail({ z: 1, a: 'x', m: null, b: true }),
      createdAtMs: 1767225600000,
    };
    expect(fields.detailJson).toBe('{"a":"x","b":true,"m":null,"z":1}');
    const text = canonicalAuditEntry({ ...fields, previousHash: genesisHash });
    expect(text).toBe(
      `["countersign-audit-v1","1","00000000-0000-4000-8000-000000000001","payer_created","alice",` +
        `"{\\"a\\":\\"x\\",\\"b\\":true,\\"m\\":null,\\"z\\":1}","1767225600000","${genesisHash}"]`,
    );
    expect(chainHash(sha256Hex, genesisHash, fields)).toBe(sha256Hex(text));
    expect(chainHash(sha256Hex, 'f'.repeat(64), fields)).not.toBe(sha256Hex(text));
  });

  it('verifies a chain built by extendChain, page by page', () => {
    const chain = buildChain(5);
    expect(chain.map((entry) => entry.position)).toEqual([1, 2, 3, 4, 5]);
    const first = verifyChain(sha256Hex, chain.slice(0, 2));
    expect(first.ok).toBe(true);
    if (!first.ok) return;
    expect(verifyChain(sha256Hex, chain.slice(2), first.end)).toEqual({
      ok: true,
      end: { position: 5, hash: chain[4]!.hash },
    });
    expect(verifyHead({ position: 5, hash: chain[4]!.hash }, { position: 5, hash: chain[4]!.hash }).ok).toBe(
      true,
    );
  });

  it('names the first broken position and why', () => {
    const chain = buildChain(5);
    const withoutThird = [...chain.slice(0, 2), ...chain.slice(3)];
    expect(verifyChain(sha256Hex, withoutThird)).toEqual({ ok: false, brokenAt: 3, reason: 'position_gap' });
    const edited = chain.map((entry) =>
      entry.position === 2 ? { ...entry, detailJson: '{"attempt":9}' } : entry,
    );
    expect(verifyChain(sha256Hex, edited)).toEqual({ ok: false, brokenAt: 2, reason: 'hash_mismatch' });
    const relinked = chain.map((entry) =>
      entry.position === 4 ? { ...entry, previousHash: chain[1]!.hash } : entry,
    );
    expect(verifyChain(sha256Hex, relinked)).toEqual({
      ok: false,
      brokenAt: 4,
      reason: 'previous_hash_mismatch',
    });
    const end = { position: 4, hash: chain[3]!.hash };
    expect(verifyHead(end, { position: 5, hash: chain[4]!.hash })).toEqual({
      ok: false,
      brokenAt: 5,
      reason: 'head_mismatch',
    });
    expect(verifyHead(end, { position: 4, hash: chain[4]!.hash })).toEqual({
      ok: false,
      brokenAt: 4,
      reason: 'head_mismatch',
    });
  });

  it.each([
    'password',
    'newPassword',
    'verificationCode',
    'verification_code',
    'pin',
    'pinHash',
    'firstCode',
    'second_code',
    'token',
    'sessionToken',
    'apiKey',
    'APIKey',
    'api_key',
    'key',
    'keyId',
    'secret',
    'clientSecret',
  ])('refuses a detail key that names a secret: %s', (key) => {
    expect(() => canonicalDetail({ [key]: 'x' })).toThrow(/names a secret/);
  });

  it('accepts keys that merely contain the letters of a secret word', () => {
    expect(canonicalDetail({ shipping: 'x', monkey: 1, reason: 'wrong', from: 'requires_approval' })).toBe(
      '{"from":"requires_approval","monkey":1,"reason":"wrong","shipping":"x"}',
    );
  });

  it('refuses a detail that is not a flat object of short scalars, and events that break a rule', () => {
    const nested = { nested: { a: 1 } } as unknown as Record<string, string>;
    expect(() => canonicalDetail(nested)).toThrow(/not a short string/);
    expect(() => canonicalDetail({ amount: Number.NaN })).toThrow(/not a short string/);
    expect(() => canonicalDetail({ note: 'x'.repeat(auditLimits.detailValueCharactersMax + 1) })).toThrow();
    expect(() => canonicalDetail(new Map() as unknown as Record<string, string>)).toThrow(/plain object/);
    expect(() => canonicalDetail(null as unknown as Record<string, string>)).toThrow(/plain object/);
    expect(() => canonicalDetail([] as unknown as Record<string, string>)).toThrow(/plain object/);
    expect(() => canonicalDetail({ 'with space': 1 })).toThrow(/identifier/);
    expect(() =>
      prepareAuditEvent(newId(), { event: 'Bad Event' as 'login_failed', subject: null, detail: {} }),
    ).toThrow();
    expect(() => prepareAuditEvent(newId(), { event: 'login_failed', subject: '', detail: {} })).toThrow();
  });
});

async function auditState(database: Database) {
  const entries = await database.query('SELECT * FROM audit_log ORDER BY position');
  const head = await database.query('SELECT * FROM audit_head');
  return { entries, head };
}

describe.each(testEngines())('audit log on %s', (engine) => {
  // Tests that leave the chain valid share one database and count from the head they find; tests that
  // need an empty log, the migration's own trigger, or that tamper with the chain get a database each.
  describe('appending and listing', () => {
    let test: TestDatabase;
    let clock: ManualClock;
    let audit: AuditService;
    let start: number;

    beforeAll(async () => {
      test = await openTestDatabase(engine, 25);
    });
    afterAll(async () => {
      await test.dispose();
    });
    beforeEach(async () => {
      clock = new ManualClock();
      audit = new AuditService(test.database, clock, sqlAuditStore);
      start = (await sqlAuditStore.selectHead(test.database)).position;
    });

    it('appends several events in one transaction and in separate ones, as one valid chain', async () => {
      const together = await test.database.transaction((tx) =>
        audit.appendIn(
          tx,
          [
            { event: 'payer_created', subject: 'alice', detail: {} },
            { event: 'session_created', subject: 'alice', detail: { channel: 'web' } },
          ],
          clock.nowMs(),
        ),
      );
      clock.advance(1000);
      const alone = await audit.append([
        { event: 'deposit_created', subject: 'alice', detail: { amount: '1000' } },
      ]);
      clock.advance(1000);
      await audit.append([{ event: 'payer_locked', subject: null, detail: { until: clock.nowMs() } }]);

      expect(together.map((entry) => entry.position)).toEqual([start + 1, start + 2]);
      expect(together[1]!.previousHash).toBe(together[0]!.hash);
      expect(alone[0]).toMatchObject({
        position: start + 3,
        previousHash: together[1]!.hash,
        createdAtMs: clock.nowMs() - 1000,
        detail: { amount: '1000' },
      });

      const newest = await audit.list({ limit: 4 });
      expect(newest.map((entry) => [entry.position - start, entry.event])).toEqual([
        [4, 'payer_locked'],
        [3, 'deposit_created'],
        [2, 'session_created'],
        [1, 'payer_created'],
      ]);
      expect(newest[1]).toEqual(alone[0]);
      expect(newest[0]!.subject).toBeNull();
      const [head] = await test.database.query('SELECT position, hash FROM audit_head');
      expect(head).toEqual({ position: BigInt(start + 4), hash: newest[0]!.hash });
      expect(await audit.verify()).toEqual({ ok: true, entries: start + 4 });
    });

    it('appends under a held head, twice in one transaction and past the per-statement bound, as one chain', async () => {
      const many = Array.from({ length: auditLimits.eventsPerAppendMax + 2 }, (_, index) =>
        loginFailed('bob', index + 1),
      );
      const [first, second] = await test.database.transaction(async (tx) => {
        const head = await audit.lockHeadIn(tx);
        const written = await head.writeIn(
          tx,
          [{ event: 'payer_created', subject: 'bob', detail: {} }],
          clock.nowMs(),
        );
        return [written, await head.writeIn(tx, many, clock.nowMs())] as const;
      });
      expect(first.map((entry) => entry.position)).toEqual([start + 1]);
      expect(second).toHaveLength(many.length);
      expect(second[0]).toMatchObject({ position: start + 2, previousHash: first[0]!.hash });
      expect(second.at(-1)!.position).toBe(start + 1 + many.length);
      const [head] = await test.database.query('SELECT position, hash FROM audit_head');
      expect(head).toEqual({ position: BigInt(start + 1 + many.length), hash: second.at(-1)!.hash });
      expect(await audit.verify()).toEqual({ ok: true, entries: start + 1 + many.length });
    });

    it('refuses an event that breaks a rule under a held head, and the transaction writes nothing', async () => {
      const before = await auditState(test.database);
      await expect(
        test.database.transaction(async (tx) => {
          const head = await audit.lockHeadIn(tx);
          await head.writeIn(
            tx,
            [{ event: 'payer_created', subject: 'bob', detail: { password: 'x' } }],
            clock.nowMs(),
          );
        }),
      ).rejects.toThrow();
      expect(await auditState(test.database)).toEqual(before);
    });

    it('commits an entry with the change it records, and rolls both back together', async () => {
      const insertPayee = (id: string) =>
        test.database.transaction(async (tx) => {
          await tx.query(`INSERT INTO payees (id, name, created_at_ms) VALUES ($1, 'Shop', 0)`, [id]);
          await audit.appendIn(tx, [{ event: 'payee_created', subject: id, detail: {} }], clock.nowMs());
          if (id === 'rolled-back') throw new Error('the change failed after its audit entry');
        });
      await insertPayee('committed');
      const before = await auditState(test.database);
      await expect(insertPayee('rolled-back')).rejects.toThrow(/failed after its audit entry/);

      expect(await auditState(test.database)).toEqual(before);
      expect(await test.database.query(`SELECT id FROM payees WHERE id = 'rolled-back'`)).toEqual([]);
      const [newest] = await audit.list({ limit: 1 });
      expect(newest).toMatchObject({ position: start + 1, event: 'payee_created', subject: 'committed' });
      expect(await audit.verify()).toEqual({ ok: true, entries: start + 1 });
    });

    it('keeps a gapless, valid chain under 20 concurrent appends', async () => {
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, index) =>
          audit.append(
            Array.from({ length: (index % 3) + 1 }, (_unused, attempt) =>
              loginFailed(`payer-${index}`, attempt),
            ),
          ),
        ),
      );
      const total = results.reduce((sum, entries) => sum + entries.length, 0);
      const positions = results.flat().map((entry) => entry.position);
      expect(positions.sort((a, b) => a - b)).toEqual(
        Array.from({ length: total }, (_, index) => start + index + 1),
      );
      // Each append's entries are consecutive: one transaction holds the head for all of them.
      for (const entries of results) {
        expect(entries.map((entry) => entry.position - entries[0]!.position)).toEqual(
          entries.map((_, i) => i),
        );
      }
      expect(await audit.verify()).toEqual({ ok: true, entries: start + total });
    });

    it('lists newest first, in pages of at most 100', async () => {
      await audit.append(Array.from({ length: 120 }, (_, attempt) => loginFailed('alice', attempt)));
      const first = await audit.list();
      expect(first).toHaveLength(100);
      expect(first.map((entry) => entry.position)).toEqual(
        Array.from({ length: 100 }, (_, index) => start + 120 - index),
      );
      const second = await audit.list({ beforePosition: first[99]!.position, limit: 15 });
      expect(second.map((entry) => entry.position)).toEqual(
        Array.from({ length: 15 }, (_, index) => start + 20 - index),
      );
      await expect(audit.list({ limit: 101 })).rejects.toThrow(RangeError);
      await expect(audit.list({ limit: 0 })).rejects.toThrow(RangeError);
      await expect(audit.list({ beforePosition: 0 })).rejects.toThrow(RangeError);
    });

    it('refuses a detail naming a secret, and writes nothing — not even the caller’s change', async () => {
      const before = await auditState(test.database);
      await expect(
        audit.append([{ event: 'code_issued', subject: 'payment-1', detail: { firstCode: '12345678' } }]),
      ).rejects.toThrow(/names a secret/);
      await expect(
        test.database.transaction(async (tx) => {
          await tx.query(`INSERT INTO payees (id, name, created_at_ms) VALUES ('shop', 'Shop', 0)`);
          await audit.appendIn(
            tx,
            [
              { event: 'payee_created', subject: 'shop', detail: {} },
              { event: 'payer_created', subject: 'bob', detail: { verificationCode: '1234' } },
            ],
            clock.nowMs(),
          );
        }),
      ).rejects.toThrow(/names a secret/);
      await expect(
        audit.append(
          Array.from({ length: auditLimits.eventsPerAppendMax + 1 }, () => loginFailed('alice', 1)),
        ),
      ).rejects.toThrow(RangeError);
      expect(await audit.append([])).toEqual([]);
      expect(await auditState(test.database)).toEqual(before);
      expect(await test.database.query(`SELECT id FROM payees WHERE id = 'shop'`)).toEqual([]);
    });
  });

  describe('integrity', () => {
    let test: TestDatabase;
    let clock: ManualClock;
    let audit: AuditService;

    beforeEach(async () => {
      test = await openTestDatabase(engine, 2);
      clock = new ManualClock();
      audit = new AuditService(test.database, clock, sqlAuditStore);
    });
    afterEach(async () => {
      await test.dispose();
    });

    async function appendFive(): Promise<void> {
      await audit.append([1, 2, 3, 4, 5].map((attempt) => loginFailed('alice', attempt)));
    }

    async function dropTrigger(): Promise<void> {
      await test.database.query('DROP TRIGGER audit_log_append_only ON audit_log');
    }

    it('verifies an empty log, and starts the chain at the genesis hash', async () => {
      expect(await audit.verify()).toEqual({ ok: true, entries: 0 });
      const [first] = await audit.append([loginFailed('alice', 1)]);
      expect(first).toMatchObject({ position: 1, previousHash: genesisHash });
      expect(await audit.verify()).toEqual({ ok: true, entries: 1 });
    });

    it('refuses UPDATE and DELETE of entries while the append-only trigger stands', async () => {
      await appendFive();
      const before = await auditState(test.database);
      await expect(
        test.database.query(`UPDATE audit_log SET detail = '{}' WHERE position = 3`),
      ).rejects.toThrow(/append-only/);
      await expect(test.database.query('DELETE FROM audit_log WHERE position = 5')).rejects.toThrow(
        /append-only/,
      );
      expect(await auditState(test.database)).toEqual(before);
      expect(await audit.verify()).toEqual({ ok: true, entries: 5 });
    });

    it('detects an edited detail at its position', async () => {
      await appendFive();
      await dropTrigger();
      await test.database.query(
        `UPDATE audit_log SET detail = '{"attempt":1,"channel":"api"}' WHERE position = 3`,
      );
      expect(await audit.verify()).toEqual({ ok: false, entries: 2, brokenAt: 3, reason: 'hash_mismatch' });
    });

    it('detects an edited entry whose hash was recomputed, at the next position', async () => {
      await appendFive();
      await dropTrigger();
      const [third] = await audit.list({ beforePosition: 4, limit: 1 });
      const detailJson = canonicalDetail({ attempt: 1, channel: 'api' });
      const hash = chainHash(sha256Hex, third!.previousHash, { ...third!, detailJson });
      await test.database.query('UPDATE audit_log SET detail = $1, hash = $2 WHERE position = 3', [
        detailJson,
        hash,
      ]);
      expect(await audit.verify()).toEqual({
        ok: false,
        entries: 3,
        brokenAt: 4,
        reason: 'previous_hash_mismatch',
      });
    });

    it('detects a deleted middle entry', async () => {
      await appendFive();
      await dropTrigger();
      await test.database.query('DELETE FROM audit_log WHERE position = 3');
      expect(await audit.verify()).toEqual({ ok: false, entries: 2, brokenAt: 3, reason: 'position_gap' });
    });

    it('detects a deleted first entry', async () => {
      await appendFive();
      await dropTrigger();
      await test.database.query('DELETE FROM audit_log WHERE position = 1');
      expect(await audit.verify()).toEqual({ ok: false, entries: 0, brokenAt: 1, reason: 'position_gap' });
    });

    it('detects a deleted last entry through the head', async () => {
      await appendFive();
      await dropTrigger();
      await test.database.query('DELETE FROM audit_log WHERE position = 5');
      expect(await audit.verify()).toEqual({ ok: false, entries: 4, brokenAt: 5, reason: 'head_mismatch' });
    });

    it('detects a head that does not match the last entry', async () => {
      await appendFive();
      await test.database.query(`UPDATE audit_head SET hash = $1`, ['a'.repeat(64)]);
      expect(await audit.verify()).toEqual({ ok: false, entries: 5, brokenAt: 5, reason: 'head_mismatch' });
    });

    it('verifies a long log in pages of 1000 and finds a break past the first page', async () => {
      for (let batch = 0; batch < 5; batch += 1) {
        await audit.append(Array.from({ length: 500 }, (_, attempt) => loginFailed('alice', attempt)));
      }
      const pageSizes: number[] = [];
      const counting: AuditStore = {
        ...sqlAuditStore,
        selectRange: async (executor, afterPosition, throughPosition, limit) => {
          expect(limit).toBe(1000);
          const page = await sqlAuditStore.selectRange(executor, afterPosition, throughPosition, limit);
          pageSizes.push(page.length);
          return page;
        },
      };
      const paged = new AuditService(test.database, clock, counting);
      expect(await paged.verify()).toEqual({ ok: true, entries: 2500 });
      expect(pageSizes).toEqual([1000, 1000, 500]);

      await dropTrigger();
      await test.database.query(`UPDATE audit_log SET subject = 'mallory' WHERE position = 1500`);
      expect(await paged.verify()).toEqual({
        ok: false,
        entries: 1499,
        brokenAt: 1500,
        reason: 'hash_mismatch',
      });
    });
  });
});
