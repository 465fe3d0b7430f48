-- Passkeys as second terminals (WebAuthn). The platform keeps what verifies a passkey's signature and
-- nothing that can make one: the credential id, the public key (COSE, as the authenticator gave it), the
-- signature counter and the authenticator's AAGUID. A database leak therefore reveals no second code.

CREATE TABLE passkeys (
  id uuid PRIMARY KEY,
  payer_id text NOT NULL REFERENCES payers (id),
  -- base64url of the raw credential id; unique across payers, as WebAuthn makes it.
  credential_id text NOT NULL UNIQUE CHECK (char_length(credential_id) BETWEEN 16 AND 1400),
  public_key text NOT NULL,
  sign_count bigint NOT NULL CHECK (sign_count >= 0),
  aaguid text NOT NULL,
  transports text NOT NULL DEFAULT '',
  label text CHECK (label IS NULL OR char_length(label) BETWEEN 1 AND 64),
  status text NOT NULL CHECK (status IN ('active', 'revoked')),
  created_at_ms bigint NOT NULL,
  last_used_at_ms bigint,
  revoked_at_ms bigint,
  CHECK ((status = 'revoked') = (revoked_at_ms IS NOT NULL))
);
CREATE INDEX passkeys_payer_created ON passkeys (payer_id, created_at_ms);

-- Server nonces of WebAuthn ceremonies, single use. A registration's challenge is the nonce itself; an
-- approval's challenge is a hash over the payment (id, first code's keyed hash, amount, currency, payee)
-- and the nonce, so an assertion approves that payment and nothing else.
CREATE TABLE passkey_challenges (
  id uuid PRIMARY KEY,
  payer_id text NOT NULL REFERENCES payers (id),
  purpose text NOT NULL CHECK (purpose IN ('registration', 'approval')),
  payment_id uuid REFERENCES payments (id),
  nonce text NOT NULL,
  created_at_ms bigint NOT NULL,
  expires_at_ms bigint NOT NULL,
  used_at_ms bigint,
  CHECK ((purpose = 'approval') = (payment_id IS NOT NULL))
);
CREATE INDEX passkey_challenges_payer_open ON passkey_challenges (payer_id) WHERE used_at_ms IS NULL;
CREATE INDEX passkey_challenges_expiry ON passkey_challenges (expires_at_ms);
