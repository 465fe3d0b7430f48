// Operators for tests: created and set up through the service, with their TOTP key kept for computing codes.
import type { ManualClock } from '../../src/domain/clock.js';
import { cliActor, type OperatorRole } from '../../src/domain/operator.js';
import { base32Decode, totpAt, totpStep } from '../../src/domain/totp.js';
import type { OperatorService } from '../../src/services/operators/operator-service.js';

/** A set-up operator and what it signs in with. */
export interface TestOperator {
  readonly name: string;
  readonly role: OperatorRole;
  readonly password: string;
  readonly key: Uint8Array;
}

/**
 * A code for a step no earlier code used: the clock moves on by one TOTP step first, since the platform
 * accepts each step once.
 */
export function nextOperatorCode(operator: TestOperator, clock: ManualClock): Promise<string> {
  clock.advance(30_000);
  return totpAt(operator.key, totpStep(clock.nowMs()));
}

/** Creates an operator with the CLI's rights and completes its set-up. */
export async function createTestOperator(
  operators: OperatorService,
  clock: ManualClock,
  name: string,
  role: OperatorRole,
): Promise<TestOperator> {
  const password = `${name} password for tests`;
  const created = await operators.create({ name, role }, cliActor);
  const enrollment = await operators.beginSetup(name, created.setupCode);
  const operator = { name, role, password, key: base32Decode(enrollment.keyBase32) };
  await operators.completeSetup(name, created.setupCode, password, await nextOperatorCode(operator, clock));
  return operator;
}
