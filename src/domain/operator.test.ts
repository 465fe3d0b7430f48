// Proves the role table: each role may do what the roles below it may, and nothing of the roles above.
import { describe, expect, it } from 'vitest';
import {
  actorLabel,
  actorRole,
  cliActor,
  isOperatorName,
  mayAct,
  operatorActions,
  tokenActor,
} from './operator.js';

describe('operator roles', () => {
  it('lets a viewer read and nothing else', () => {
    const allowed = Object.keys(operatorActions).filter((action) =>
      mayAct('viewer', action as keyof typeof operatorActions),
    );
    expect(allowed).toEqual(['read']);
  });

  it('lets support unlock, block, revoke, replay and export the books, but not create, deposit or manage', () => {
    expect(mayAct('support', 'export_books')).toBe(true);
    expect(mayAct('viewer', 'export_books')).toBe(false);
    expect(mayAct('support', 'unlock_payer')).toBe(true);
    expect(mayAct('support', 'block_payer')).toBe(true);
    expect(mayAct('support', 'revoke_terminal')).toBe(true);
    expect(mayAct('support', 'replay_delivery')).toBe(true);
    expect(mayAct('support', 'deposit')).toBe(false);
    expect(mayAct('support', 'create_party')).toBe(false);
    expect(mayAct('support', 'manage_merchant')).toBe(false);
    expect(mayAct('support', 'manage_operator')).toBe(false);
  });

  it('lets an admin do everything', () => {
    for (const action of Object.keys(operatorActions)) {
      expect(mayAct('admin', action as keyof typeof operatorActions), action).toBe(true);
    }
  });

  it('names actors for the audit log; the token and the CLI act as admins', () => {
    expect(actorLabel({ kind: 'operator', id: 'abc', role: 'viewer' })).toBe('operator:abc');
    expect(actorLabel(tokenActor)).toBe('token');
    expect(actorLabel(cliActor)).toBe('cli');
    expect(actorRole(tokenActor)).toBe('admin');
    expect(actorRole({ kind: 'operator', id: 'abc', role: 'support' })).toBe('support');
  });

  it('accepts lower-case names only', () => {
    expect(isOperatorName('ada.lovelace')).toBe(true);
    expect(isOperatorName('Ada')).toBe(false);
    expect(isOperatorName('a')).toBe(false);
    expect(isOperatorName('ada\u0000')).toBe(false);
    expect(isOperatorName('1ada')).toBe(false);
  });
});
