/**
 * The console's ledger: accounts and transfers with filters (keyset pages), and "verify ledger", which
 * runs every invariant check and shows each result with the totals per currency.
 */

import { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { exportContentType, exportFileName, parseExportRequest } from '../../domain/export-format.js';
import type { Account, Transfer } from '../../domain/ledger.js';
import { limits } from '../../domain/limits.js';
import { partyIdCharacters } from '../../domain/payer.js';
import type { AccountFilter, TransferFilter } from '../../services/operators/overview-service.js';
import { nextPage } from '../../web/html.js';
import {
  accountKinds,
  accountsBody,
  transferKinds,
  transfersBody,
  verifyBody,
} from '../../web/operator/ledger-views.js';
import { operatorPage, operatorPaths } from '../../web/operator/operator-frame.js';
import { sendPage } from '../../web/page-context.js';
import { cursorParam, parseCursor } from '../../web/payer/payment-views.js';
import { pageFilesOf } from '../contract.js';
import type { FastifyTypebox } from '../dependencies.js';
import { type OperatorPageKit, queryOf } from './page-operator-kit.js';
import { pageSchema, registerPageRoutes } from './page-schemas.js';

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** An account owner's id prefix: the characters of a party id, at most as many. */
const ownerPrefixPattern = new RegExp(`^[${partyIdCharacters}]{1,${limits.partyIdLengthMax}}$`);
/** A transfer reference prefix: printable ASCII without spaces. */
const referencePrefixPattern = new RegExp(`^[\\x21-\\x7e]{1,${limits.transferReferenceFilterLengthMax}}$`);

/** A filter value from the query when it matches `pattern`; anything else is no filter. */
function queryValue(request: FastifyRequest, name: string, pattern: RegExp): string | undefined {
  const raw = queryOf(request)[name];
  return typeof raw === 'string' && pattern.test(raw) ? raw : undefined;
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[]): T | undefined {
  return typeof value === 'string' && (allowed as readonly string[]).includes(value)
    ? (value as T)
    : undefined;
}

function accountFilterOf(request: FastifyRequest): AccountFilter {
  const currency = queryValue(request, 'currency', /^[A-Z]{3}$/);
  const kind = oneOf<Account['kind']>(queryOf(request)['kind'], accountKinds);
  const owner = queryValue(request, 'owner', ownerPrefixPattern);
  return { ...(currency && { currency }), ...(kind && { kind }), ...(owner && { owner }) };
}

function transferFilterOf(request: FastifyRequest): TransferFilter {
  const currency = queryValue(request, 'currency', /^[A-Z]{3}$/);
  const kind = oneOf<Transfer['kind']>(queryOf(request)['kind'], transferKinds);
  const accountId = queryValue(request, 'account', uuidPattern);
  const reference = queryValue(request, 'reference', referencePrefixPattern);
  return {
    ...(currency && { currency }),
    ...(kind && { kind }),
    ...(accountId && { accountId }),
    ...(reference && { reference }),
  };
}

/** GET one page of ledger accounts, filtered. */
async function showAccounts(
  kit: OperatorPageKit,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const session = await kit.session(request, reply);
  const filter = accountFilterOf(request);
  const after = queryValue(request, 'after', uuidPattern);
  const page = await kit.services.overview.accounts(filter, after, limits.operatorPageRowsMax);
  const nextHref = nextPage(operatorPaths.accounts, filter, page.next?.id);
  const frame = kit.frame(request, reply, session, operatorPaths.accounts);
  return sendPage(reply, operatorPage(frame, 'Accounts', accountsBody(filter, page.items, nextHref)));
}

/** GET one page of ledger transfers, filtered, newest first. */
async function showTransfers(
  kit: OperatorPageKit,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const session = await kit.session(request, reply);
  const filter = transferFilterOf(request);
  const page = await kit.services.overview.transfers(
    filter,
    parseCursor(queryOf(request)['after']),
    limits.operatorPageRowsMax,
  );
  const query = {
    currency: filter.currency,
    kind: filter.kind,
    account: filter.accountId,
    reference: filter.reference,
  };
  const nextHref = nextPage(operatorPaths.transfers, query, page.next && cursorParam(page.next));
  const frame = kit.frame(request, reply, session, operatorPaths.transfers);
  return sendPage(reply, operatorPage(frame, 'Transfers', transfersBody(filter, page.items, nextHref)));
}

/** GET an export for the books, streamed as a download. */
async function downloadExport(
  kit: OperatorPageKit,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const session = await kit.session(request, reply);
  const query = queryOf(request);
  const text = (name: string) => (typeof query[name] === 'string' ? (query[name] as string) : '');
  const { kind, format, range } = parseExportRequest({
    kind: text('kind'),
    format: text('format') || 'csv',
    from: text('from'),
    to: text('to'),
  });
  // The role is checked by the service before the first byte: a viewer gets an error, never a file.
  const chunks = kit.services.exports.file(session.actor, kind, format, range);
  return reply
    .type(exportContentType(format))
    .header('content-disposition', `attachment; filename="${exportFileName(kind, format, range)}"`)
    .header('cache-control', 'no-store')
    .send(Readable.from(chunks));
}

/** GET the "verify ledger" page, before any verification. */
async function showVerify(
  kit: OperatorPageKit,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const session = await kit.session(request, reply);
  const frame = kit.frame(request, reply, session, operatorPaths.verify);
  return sendPage(reply, operatorPage(frame, 'Verify ledger', verifyBody(undefined, frame.csrfToken)));
}

/** POST "verify ledger": every invariant check's result, with the totals per currency. */
async function verifyLedger(
  kit: OperatorPageKit,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const session = await kit.session(request, reply);
  const result = await kit.services.ledger.verify();
  const frame = kit.frame(request, reply, session, operatorPaths.verify);
  return sendPage(reply, operatorPage(frame, 'Verify ledger', verifyBody(result, frame.csrfToken)));
}

/** Registers the ledger pages in the console's context. */
export function operatorLedgerPages(app: FastifyTypebox, kit: OperatorPageKit): void {
  registerPageRoutes(app, kit, 'operator pages', [
    {
      method: 'get',
      path: operatorPaths.accounts,
      summary: 'Ledger accounts, filtered',
      query: ['currency', 'kind', 'owner', 'after'],
      handler: showAccounts,
    },
    {
      method: 'get',
      path: operatorPaths.transfers,
      summary: 'Ledger transfers, filtered, newest first',
      query: ['currency', 'kind', 'account', 'reference', 'after'],
      handler: showTransfers,
    },
  ]);

  app.get(
    operatorPaths.exports,
    {
      schema: {
        ...pageSchema({
          tag: 'operator pages',
          summary: 'Exports for the books, downloaded with the console session',
          query: ['kind', 'from', 'to', 'format'],
        }),
        response: pageFilesOf(['text/csv', 'application/x-ndjson'], 'The export, streamed'),
      },
    },
    (request, reply) => downloadExport(kit, request, reply),
  );

  registerPageRoutes(app, kit, 'operator pages', [
    { method: 'get', path: operatorPaths.verify, summary: 'The "verify ledger" page', handler: showVerify },
  ]);

  // A POST, though it changes nothing: verification reads the whole ledger, and no other site may make a
  // signed-in browser start that work.
  registerPageRoutes(app, kit, 'operator pages', [
    {
      method: 'post',
      path: operatorPaths.verify,
      summary: 'Verify every ledger invariant; totals per currency',
      form: [],
      handler: verifyLedger,
    },
  ]);
}
