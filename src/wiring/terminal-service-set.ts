/**
 * Builds the second-terminal services (enrollments, terminals, the push hub, the delivery outbox and its
 * channels) and their background jobs on top of the method's services; `platform-services` calls this.
 */

import type { Clock } from '../domain/clock.js';
import { limits } from '../domain/limits.js';
import type { BackgroundJob } from '../services/background-jobs.js';
import type { Database } from '../services/database.js';
import {
  type DeliveryChannel,
  DevelopmentOutboxChannel,
  PushChannel,
  secondTerminalRouter,
} from '../services/delivery/delivery-channel.js';
import { DeliveryService } from '../services/delivery/delivery-service.js';
import { SmsGatewayChannel } from '../services/delivery/delivery-sms-channel.js';
import type { DeliveryStore } from '../services/delivery/delivery-store.js';
import { PartyService } from '../services/parties/party-service.js';
import { PasskeyService, relyingPartyOf } from '../services/passkeys/passkey-service.js';
import { EnrollmentService } from '../services/terminals/terminal-enrollment-service.js';
import { TerminalPushHub } from '../services/terminals/terminal-push-hub.js';
import { TerminalService } from '../services/terminals/terminal-service.js';
import type { TerminalStore } from '../services/terminals/terminal-store.js';
import type { MethodServiceSet } from './method-service-set.js';

/** The stores of the second-terminal services. */
export interface TerminalStores {
  readonly terminalStore: TerminalStore;
  readonly deliveryStore: DeliveryStore;
}

/** Delivery settings from configuration; all optional, so that a test can leave every channel but push off. */
export interface DeliveryConfiguration {
  readonly smsGatewayUrl?: string | undefined;
  readonly smsGatewaySecret?: string | undefined;
  readonly developmentOutbox?: boolean;
}

/** The built services. */
export interface TerminalServiceSet {
  readonly enrollments: EnrollmentService;
  readonly terminals: TerminalService;
  /** Passkeys as second terminals (WebAuthn). */
  readonly passkeys: PasskeyService;
  readonly deliveries: DeliveryService;
  /** The event streams of terminals connected to this process. */
  readonly terminalHub: TerminalPushHub;
}

/** Wires the second-terminal services; returns them, the payer service that issues enrollments, and jobs. */
export function createTerminalServices(input: {
  readonly database: Database;
  readonly clock: Clock;
  readonly method: MethodServiceSet;
  readonly stores: TerminalStores;
  readonly configuration: DeliveryConfiguration & {
    readonly sweepIntervalMs: number;
    readonly publicUrl: string;
    /** The WebAuthn RP ID when it is not the host of `publicUrl` (`WEBAUTHN_RP_ID`). */
    readonly webauthnRpId?: string | undefined;
  };
  /** A hub to share, e.g. with a test; by default a new one. */
  readonly hub?: TerminalPushHub;
}): TerminalServiceSet & { readonly parties: PartyService; readonly jobs: BackgroundJob[] } {
  const { database, clock, method, stores, configuration } = input;
  const deps = { ...method.deps, terminalStore: stores.terminalStore, authentication: method.authentication };
  const terminalHub = input.hub ?? new TerminalPushHub();
  const enrollments = new EnrollmentService(deps);
  const terminals = new TerminalService(deps, method.payments, terminalHub);
  const passkeys = new PasskeyService(
    deps,
    method.payments,
    relyingPartyOf(configuration.publicUrl, configuration.webauthnRpId),
  );
  const channels: DeliveryChannel[] = [new PushChannel(database, stores.terminalStore, terminalHub)];
  if (configuration.smsGatewayUrl !== undefined && configuration.smsGatewaySecret !== undefined) {
    channels.push(
      new SmsGatewayChannel({
        url: configuration.smsGatewayUrl,
        secret: configuration.smsGatewaySecret,
        clock,
      }),
    );
  }
  const developmentOutbox = configuration.developmentOutbox === true;
  if (developmentOutbox) {
    channels.push(new DevelopmentOutboxChannel(database, clock, method.deps.secrets, stores.deliveryStore));
  }
  const deliveries = new DeliveryService({
    database,
    clock,
    secrets: method.deps.secrets,
    audit: method.deps.audit,
    deliveryStore: stores.deliveryStore,
    router: secondTerminalRouter(channels),
    developmentOutbox,
  });
  const every = configuration.sweepIntervalMs;
  const jobs: BackgroundJob[] = [
    { name: 'deliver-outbox', intervalMs: every, run: () => deliveries.processDue() },
    { name: 'refresh-terminal-streams', intervalMs: every, run: () => terminals.refreshStreams() },
    {
      name: 'terminal-housekeeping',
      intervalMs: Math.max(every, limits.purgeIntervalMsMin),
      run: async () =>
        (await terminals.purgeNonces()) +
        (await enrollments.expireDue()) +
        (await deliveries.purgeDevelopmentMessages()),
    },
  ];
  // The payer service issues the enrollment of a new payer's first terminal in the payer's transaction.
  const parties = new PartyService(method.deps, enrollments);
  return { enrollments, terminals, passkeys, deliveries, terminalHub, parties, jobs };
}
