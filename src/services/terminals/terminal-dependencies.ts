/**
 * What the terminal and enrollment services are built from: the method's dependencies plus the terminal
 * store and the payer authentication (attempt counters and locks, shared with logins and approvals).
 */

import type { MethodDependencies } from '../method-dependencies.js';
import type { AuthenticationService } from '../parties/authentication-service.js';
import type { TerminalStore } from './terminal-store.js';

/** Everything the terminal services need. */
export interface TerminalDependencies extends MethodDependencies {
  readonly terminalStore: TerminalStore;
  readonly authentication: AuthenticationService;
}
