-- kavach-store-mysql migration 0001: the 48 kavach_* tables (MySQL 8.0 / MariaDB 10.6+; tested on MariaDB 10.11).
--
-- Differences from KavachOS's reference MySQL DDL (spec/dialects.md §5), on purpose:
-- * Key columns are VARCHAR, never TEXT (TEXT keys fail with error 1170 on both servers):
--     128  ids, references to ids, hashes (SHA-256 hex is 64; room for SHA-512), enum-like
--          columns that are indexed or carry a default (status, type, role, ...);
--     255  names, slugs, usernames, client ids, domains, provider ids, codes, tokens, OAuth states,
--          challenges, instance ids, JWT ids, device fingerprints;
--     320  email addresses and identifiers that may hold one (64 + 1 + 255);
--     512  DIDs and the rate-limit resource pattern.
--   Every composite index stays within InnoDB's 3072-byte key limit at 4 bytes per
--   character: the largest are the rate-limit bucket (VARCHAR(128) + VARCHAR(512) +
--   DATETIME(3) = 2567 bytes) and the rebac tuple (five VARCHAR(128) = 2560 bytes).
-- * Columns that are neither keyed nor defaulted stay TEXT (64 KiB), as in the reference.
-- * Long values that must be unique (OAuth access/refresh tokens hold JWTs, MCP endpoint
--   URLs, WebAuthn credential ids up to 1023 bytes) are TEXT with a STORED generated
--   `<column>_sha256` BINARY(32) column carrying the unique index; the store looks them up
--   through it.
-- * Every text column is utf8mb4_bin (the table default): ids and hashes differing only in
--   case never collide, and text orders by code point (= UTF-8 byte order) like SQLite and
--   PostgreSQL's "C" collation.
-- * Integers are BIGINT (the reference INT overflows cost_micros); booleans TINYINT(1);
--   kavach_sso_connections.enabled stays INT as in the reference; instants DATETIME(3) in UTC.
-- * Foreign keys are table constraints (inline REFERENCES is ignored by MySQL) with the
--   spec's ON DELETE actions; unique constraints and indexes are created inside CREATE TABLE
--   (MySQL 8 has no CREATE INDEX IF NOT EXISTS), so every statement is idempotent.
-- * Identifiers are quoted with backticks (type, timestamp, count, action, ... are keywords).

CREATE TABLE IF NOT EXISTS `kavach_users` (
  `id` VARCHAR(128) NOT NULL,
  `email` VARCHAR(320) NOT NULL,
  `username` VARCHAR(255) NULL,
  `name` TEXT NULL,
  `external_id` TEXT NULL,
  `external_provider` TEXT NULL,
  `metadata` JSON NULL,
  `banned` TINYINT(1) NOT NULL DEFAULT 0,
  `ban_reason` TEXT NULL,
  `ban_expires_at` DATETIME(3) NULL,
  `force_password_reset` TINYINT(1) NOT NULL DEFAULT 0,
  `email_verified` TINYINT(1) NOT NULL DEFAULT 0,
  `stripe_customer_id` VARCHAR(255) NULL,
  `stripe_subscription_id` TEXT NULL,
  `stripe_subscription_status` TEXT NULL,
  `stripe_price_id` TEXT NULL,
  `stripe_current_period_end` DATETIME(3) NULL,
  `stripe_cancel_at_period_end` TINYINT(1) NOT NULL DEFAULT 0,
  `polar_customer_id` VARCHAR(255) NULL,
  `polar_subscription_id` TEXT NULL,
  `polar_subscription_status` TEXT NULL,
  `polar_product_id` TEXT NULL,
  `polar_current_period_end` DATETIME(3) NULL,
  `polar_cancel_at_period_end` TINYINT(1) NOT NULL DEFAULT 0,
  `created_at` DATETIME(3) NOT NULL,
  `updated_at` DATETIME(3) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `kavach_users_email_key` (`email`),
  UNIQUE KEY `kavach_users_username_key` (`username`),
  UNIQUE KEY `kavach_users_stripe_customer_id_key` (`stripe_customer_id`),
  UNIQUE KEY `kavach_users_polar_customer_id_key` (`polar_customer_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS `kavach_tenants` (
  `id` VARCHAR(128) NOT NULL,
  `name` TEXT NOT NULL,
  `slug` VARCHAR(255) NOT NULL,
  `settings` JSON NULL,
  `status` VARCHAR(128) NOT NULL DEFAULT 'active',
  `created_at` DATETIME(3) NOT NULL,
  `updated_at` DATETIME(3) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `kavach_tenants_slug_key` (`slug`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS `kavach_agents` (
  `id` VARCHAR(128) NOT NULL,
  `owner_id` VARCHAR(128) NOT NULL,
  `tenant_id` VARCHAR(128) NULL,
  `name` TEXT NOT NULL,
  `type` TEXT NOT NULL,
  `status` VARCHAR(128) NOT NULL DEFAULT 'active',
  `token_hash` VARCHAR(128) NOT NULL,
  `token_prefix` TEXT NOT NULL,
  `expires_at` DATETIME(3) NULL,
  `last_active_at` DATETIME(3) NULL,
  `metadata` JSON NULL,
  `created_at` DATETIME(3) NOT NULL,
  `updated_at` DATETIME(3) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `kavach_agents_token_hash_key` (`token_hash`),
  KEY `kavach_agents_owner_status` (`owner_id`, `status`),
  CONSTRAINT `kavach_agents_owner_id_fkey` FOREIGN KEY (`owner_id`) REFERENCES `kavach_users` (`id`) ON DELETE NO ACTION,
  CONSTRAINT `kavach_agents_tenant_id_fkey` FOREIGN KEY (`tenant_id`) REFERENCES `kavach_tenants` (`id`) ON DELETE NO ACTION
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS `kavach_permissions` (
  `id` VARCHAR(128) NOT NULL,
  `agent_id` VARCHAR(128) NOT NULL,
  `resource` TEXT NOT NULL,
  `actions` JSON NOT NULL,
  `constraints` JSON NULL,
  `created_at` DATETIME(3) NOT NULL,
  PRIMARY KEY (`id`),
  KEY `kavach_permissions_agent_id` (`agent_id`),
  CONSTRAINT `kavach_permissions_agent_id_fkey` FOREIGN KEY (`agent_id`) REFERENCES `kavach_agents` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS `kavach_delegation_chains` (
  `id` VARCHAR(128) NOT NULL,
  `from_agent_id` VARCHAR(128) NOT NULL,
  `to_agent_id` VARCHAR(128) NOT NULL,
  `permissions` JSON NOT NULL,
  `depth` BIGINT NOT NULL DEFAULT 1,
  `max_depth` BIGINT NOT NULL DEFAULT 3,
  `status` VARCHAR(128) NOT NULL DEFAULT 'active',
  `expires_at` DATETIME(3) NOT NULL,
  `created_at` DATETIME(3) NOT NULL,
  PRIMARY KEY (`id`),
  KEY `kavach_delegation_chains_to_status` (`to_agent_id`, `status`),
  KEY `kavach_delegation_chains_from_status` (`from_agent_id`, `status`),
  CONSTRAINT `kavach_delegation_chains_from_agent_id_fkey` FOREIGN KEY (`from_agent_id`) REFERENCES `kavach_agents` (`id`) ON DELETE NO ACTION,
  CONSTRAINT `kavach_delegation_chains_to_agent_id_fkey` FOREIGN KEY (`to_agent_id`) REFERENCES `kavach_agents` (`id`) ON DELETE NO ACTION
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS `kavach_audit_logs` (
  `id` VARCHAR(128) NOT NULL,
  `agent_id` VARCHAR(128) NOT NULL,
  `user_id` VARCHAR(128) NOT NULL,
  `action` TEXT NOT NULL,
  `resource` TEXT NOT NULL,
  `parameters` JSON NULL,
  `result` TEXT NOT NULL,
  `reason` TEXT NULL,
  `duration_ms` BIGINT NOT NULL,
  `tokens_cost` BIGINT NULL,
  `ip` TEXT NULL,
  `user_agent` TEXT NULL,
  `timestamp` DATETIME(3) NOT NULL,
  PRIMARY KEY (`id`),
  KEY `kavach_audit_logs_agent_ts` (`agent_id`, `timestamp`),
  KEY `kavach_audit_logs_user_ts` (`user_id`, `timestamp`),
  KEY `kavach_audit_logs_ts` (`timestamp`),
  CONSTRAINT `kavach_audit_logs_agent_id_fkey` FOREIGN KEY (`agent_id`) REFERENCES `kavach_agents` (`id`) ON DELETE NO ACTION,
  CONSTRAINT `kavach_audit_logs_user_id_fkey` FOREIGN KEY (`user_id`) REFERENCES `kavach_users` (`id`) ON DELETE NO ACTION
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS `kavach_rate_limits` (
  `id` VARCHAR(128) NOT NULL,
  `agent_id` VARCHAR(128) NOT NULL,
  `resource` VARCHAR(512) NOT NULL,
  `window_start` DATETIME(3) NOT NULL,
  `count` BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (`id`),
  UNIQUE KEY `kavach_rate_limits_bucket_key` (`agent_id`, `resource`, `window_start`),
  CONSTRAINT `kavach_rate_limits_agent_id_fkey` FOREIGN KEY (`agent_id`) REFERENCES `kavach_agents` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS `kavach_mcp_servers` (
  `id` VARCHAR(128) NOT NULL,
  `name` TEXT NOT NULL,
  `endpoint` TEXT NOT NULL,
  `endpoint_sha256` BINARY(32) GENERATED ALWAYS AS (UNHEX(SHA2(`endpoint`, 256))) STORED,
  `tools` JSON NOT NULL,
  `auth_required` TINYINT(1) NOT NULL DEFAULT 1,
  `rate_limit_rpm` BIGINT NULL,
  `status` VARCHAR(128) NOT NULL DEFAULT 'active',
  `created_at` DATETIME(3) NOT NULL,
  `updated_at` DATETIME(3) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `kavach_mcp_servers_endpoint_key` (`endpoint_sha256`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS `kavach_sessions` (
  `id` VARCHAR(128) NOT NULL,
  `user_id` VARCHAR(128) NOT NULL,
  `expires_at` DATETIME(3) NOT NULL,
  `metadata` JSON NULL,
  `created_at` DATETIME(3) NOT NULL,
  PRIMARY KEY (`id`),
  KEY `kavach_sessions_user_id` (`user_id`),
  CONSTRAINT `kavach_sessions_user_id_fkey` FOREIGN KEY (`user_id`) REFERENCES `kavach_users` (`id`) ON DELETE NO ACTION
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS `kavach_oauth_clients` (
  `id` VARCHAR(128) NOT NULL,
  `client_id` VARCHAR(255) NOT NULL,
  `client_secret` TEXT NULL,
  `client_name` TEXT NULL,
  `client_uri` TEXT NULL,
  `redirect_uris` JSON NOT NULL,
  `grant_types` JSON NOT NULL,
  `response_types` JSON NOT NULL,
  `token_endpoint_auth_method` VARCHAR(128) NOT NULL DEFAULT 'client_secret_basic',
  `type` VARCHAR(128) NOT NULL DEFAULT 'confidential',
  `disabled` TINYINT(1) NOT NULL DEFAULT 0,
  `metadata` JSON NULL,
  `created_at` DATETIME(3) NOT NULL,
  `updated_at` DATETIME(3) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `kavach_oauth_clients_client_id_key` (`client_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS `kavach_oauth_access_tokens` (
  `id` VARCHAR(128) NOT NULL,
  `access_token` TEXT NOT NULL,
  `access_token_sha256` BINARY(32) GENERATED ALWAYS AS (UNHEX(SHA2(`access_token`, 256))) STORED,
  `refresh_token` TEXT NULL,
  `refresh_token_sha256` BINARY(32) GENERATED ALWAYS AS (UNHEX(SHA2(`refresh_token`, 256))) STORED,
  `client_id` VARCHAR(255) NOT NULL,
  `user_id` VARCHAR(128) NOT NULL,
  `scopes` TEXT NOT NULL,
  `resource` TEXT NULL,
  `access_token_expires_at` DATETIME(3) NOT NULL,
  `refresh_token_expires_at` DATETIME(3) NULL,
  `created_at` DATETIME(3) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `kavach_oauth_access_tokens_access_token_key` (`access_token_sha256`),
  UNIQUE KEY `kavach_oauth_access_tokens_refresh_token_key` (`refresh_token_sha256`),
  KEY `kavach_oauth_access_tokens_user_id` (`user_id`),
  CONSTRAINT `kavach_oauth_access_tokens_client_id_fkey` FOREIGN KEY (`client_id`) REFERENCES `kavach_oauth_clients` (`client_id`) ON DELETE NO ACTION,
  CONSTRAINT `kavach_oauth_access_tokens_user_id_fkey` FOREIGN KEY (`user_id`) REFERENCES `kavach_users` (`id`) ON DELETE NO ACTION
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS `kavach_oauth_authorization_codes` (
  `id` VARCHAR(128) NOT NULL,
  `code` VARCHAR(255) NOT NULL,
  `client_id` VARCHAR(255) NOT NULL,
  `user_id` VARCHAR(128) NOT NULL,
  `redirect_uri` TEXT NOT NULL,
  `scopes` TEXT NOT NULL,
  `code_challenge` TEXT NULL,
  `code_challenge_method` TEXT NULL,
  `resource` TEXT NULL,
  `expires_at` DATETIME(3) NOT NULL,
  `created_at` DATETIME(3) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `kavach_oauth_authorization_codes_code_key` (`code`),
  KEY `kavach_oauth_authorization_codes_user_id` (`user_id`),
  CONSTRAINT `kavach_oauth_authorization_codes_client_id_fkey` FOREIGN KEY (`client_id`) REFERENCES `kavach_oauth_clients` (`client_id`) ON DELETE NO ACTION,
  CONSTRAINT `kavach_oauth_authorization_codes_user_id_fkey` FOREIGN KEY (`user_id`) REFERENCES `kavach_users` (`id`) ON DELETE NO ACTION
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS `kavach_oauth_accounts` (
  `id` VARCHAR(128) NOT NULL,
  `user_id` TEXT NOT NULL,
  `provider` VARCHAR(255) NOT NULL,
  `provider_account_id` VARCHAR(255) NOT NULL,
  `access_token` TEXT NOT NULL,
  `refresh_token` TEXT NULL,
  `expires_at` DATETIME(3) NULL,
  `created_at` DATETIME(3) NOT NULL,
  `updated_at` DATETIME(3) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `kavach_oauth_accounts_provider_key` (`provider`, `provider_account_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS `kavach_oauth_states` (
  `state` VARCHAR(255) NOT NULL,
  `code_verifier` TEXT NOT NULL,
  `redirect_uri` TEXT NOT NULL,
  `provider` TEXT NOT NULL,
  `expires_at` DATETIME(3) NOT NULL,
  `created_at` DATETIME(3) NOT NULL,
  PRIMARY KEY (`state`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS `kavach_budget_policies` (
  `id` VARCHAR(128) NOT NULL,
  `agent_id` VARCHAR(128) NULL,
  `user_id` VARCHAR(128) NULL,
  `tenant_id` VARCHAR(128) NULL,
  `limits` JSON NOT NULL,
  `current_usage` JSON NOT NULL,
  `action` VARCHAR(128) NOT NULL DEFAULT 'warn',
  `status` VARCHAR(128) NOT NULL DEFAULT 'active',
  `created_at` DATETIME(3) NOT NULL,
  PRIMARY KEY (`id`),
  KEY `kavach_budget_policies_agent_id` (`agent_id`),
  CONSTRAINT `kavach_budget_policies_agent_id_fkey` FOREIGN KEY (`agent_id`) REFERENCES `kavach_agents` (`id`) ON DELETE CASCADE,
  CONSTRAINT `kavach_budget_policies_user_id_fkey` FOREIGN KEY (`user_id`) REFERENCES `kavach_users` (`id`) ON DELETE NO ACTION,
  CONSTRAINT `kavach_budget_policies_tenant_id_fkey` FOREIGN KEY (`tenant_id`) REFERENCES `kavach_tenants` (`id`) ON DELETE NO ACTION
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS `kavach_agent_cards` (
  `id` VARCHAR(128) NOT NULL,
  `agent_id` VARCHAR(128) NOT NULL,
  `name` TEXT NOT NULL,
  `description` TEXT NULL,
  `version` TEXT NOT NULL,
  `protocols` JSON NOT NULL,
  `capabilities` JSON NOT NULL,
  `auth_requirements` JSON NOT NULL,
  `endpoint` TEXT NULL,
  `metadata` JSON NULL,
  `created_at` DATETIME(3) NOT NULL,
  `updated_at` DATETIME(3) NOT NULL,
  PRIMARY KEY (`id`),
  CONSTRAINT `kavach_agent_cards_agent_id_fkey` FOREIGN KEY (`agent_id`) REFERENCES `kavach_agents` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS `kavach_approval_requests` (
  `id` VARCHAR(128) NOT NULL,
  `agent_id` VARCHAR(128) NOT NULL,
  `user_id` VARCHAR(128) NOT NULL,
  `action` TEXT NOT NULL,
  `resource` TEXT NOT NULL,
  `arguments` JSON NULL,
  `status` VARCHAR(128) NOT NULL DEFAULT 'pending',
  `expires_at` DATETIME(3) NOT NULL,
  `responded_at` DATETIME(3) NULL,
  `responded_by` TEXT NULL,
  `created_at` DATETIME(3) NOT NULL,
  PRIMARY KEY (`id`),
  KEY `kavach_approval_requests_status_expires` (`status`, `expires_at`),
  KEY `kavach_approval_requests_user_id` (`user_id`),
  CONSTRAINT `kavach_approval_requests_agent_id_fkey` FOREIGN KEY (`agent_id`) REFERENCES `kavach_agents` (`id`) ON DELETE CASCADE,
  CONSTRAINT `kavach_approval_requests_user_id_fkey` FOREIGN KEY (`user_id`) REFERENCES `kavach_users` (`id`) ON DELETE NO ACTION
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS `kavach_trust_scores` (
  `agent_id` VARCHAR(128) NOT NULL,
  `score` BIGINT NOT NULL,
  `level` TEXT NOT NULL,
  `factors` JSON NOT NULL,
  `computed_at` DATETIME(3) NOT NULL,
  PRIMARY KEY (`agent_id`),
  CONSTRAINT `kavach_trust_scores_agent_id_fkey` FOREIGN KEY (`agent_id`) REFERENCES `kavach_agents` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS `kavach_organizations` (
  `id` VARCHAR(128) NOT NULL,
  `name` TEXT NOT NULL,
  `slug` VARCHAR(255) NOT NULL,
  `owner_id` VARCHAR(128) NOT NULL,
  `metadata` JSON NULL,
  `created_at` DATETIME(3) NOT NULL,
  `updated_at` DATETIME(3) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `kavach_organizations_slug_key` (`slug`),
  KEY `kavach_organizations_owner_id` (`owner_id`),
  CONSTRAINT `kavach_organizations_owner_id_fkey` FOREIGN KEY (`owner_id`) REFERENCES `kavach_users` (`id`) ON DELETE NO ACTION
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS `kavach_org_members` (
  `id` VARCHAR(128) NOT NULL,
  `org_id` VARCHAR(128) NOT NULL,
  `user_id` VARCHAR(128) NOT NULL,
  `role` VARCHAR(128) NOT NULL DEFAULT 'member',
  `joined_at` DATETIME(3) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `kavach_org_members_org_user_key` (`org_id`, `user_id`),
  KEY `kavach_org_members_user_id` (`user_id`),
  CONSTRAINT `kavach_org_members_org_id_fkey` FOREIGN KEY (`org_id`) REFERENCES `kavach_organizations` (`id`) ON DELETE CASCADE,
  CONSTRAINT `kavach_org_members_user_id_fkey` FOREIGN KEY (`user_id`) REFERENCES `kavach_users` (`id`) ON DELETE NO ACTION
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS `kavach_org_invitations` (
  `id` VARCHAR(128) NOT NULL,
  `org_id` VARCHAR(128) NOT NULL,
  `email` VARCHAR(320) NOT NULL,
  `role` VARCHAR(128) NOT NULL DEFAULT 'member',
  `invited_by` VARCHAR(128) NOT NULL,
  `status` VARCHAR(128) NOT NULL DEFAULT 'pending',
  `expires_at` DATETIME(3) NOT NULL,
  `created_at` DATETIME(3) NOT NULL,
  PRIMARY KEY (`id`),
  KEY `kavach_org_invitations_org_email_status` (`org_id`, `email`, `status`),
  CONSTRAINT `kavach_org_invitations_org_id_fkey` FOREIGN KEY (`org_id`) REFERENCES `kavach_organizations` (`id`) ON DELETE CASCADE,
  CONSTRAINT `kavach_org_invitations_invited_by_fkey` FOREIGN KEY (`invited_by`) REFERENCES `kavach_users` (`id`) ON DELETE NO ACTION
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS `kavach_org_roles` (
  `id` VARCHAR(128) NOT NULL,
  `org_id` VARCHAR(128) NOT NULL,
  `name` VARCHAR(255) NOT NULL,
  `permissions` JSON NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `kavach_org_roles_org_name_key` (`org_id`, `name`),
  CONSTRAINT `kavach_org_roles_org_id_fkey` FOREIGN KEY (`org_id`) REFERENCES `kavach_organizations` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS `kavach_passkey_credentials` (
  `id` VARCHAR(128) NOT NULL,
  `user_id` VARCHAR(128) NOT NULL,
  `credential_id` TEXT NOT NULL,
  `credential_id_sha256` BINARY(32) GENERATED ALWAYS AS (UNHEX(SHA2(`credential_id`, 256))) STORED,
  `public_key` TEXT NOT NULL,
  `counter` BIGINT NOT NULL DEFAULT 0,
  `device_name` TEXT NULL,
  `transports` TEXT NULL,
  `created_at` DATETIME(3) NOT NULL,
  `last_used_at` DATETIME(3) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `kavach_passkey_credentials_credential_id_key` (`credential_id_sha256`),
  KEY `kavach_passkey_credentials_user_id` (`user_id`),
  CONSTRAINT `kavach_passkey_credentials_user_id_fkey` FOREIGN KEY (`user_id`) REFERENCES `kavach_users` (`id`) ON DELETE NO ACTION
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS `kavach_passkey_challenges` (
  `id` VARCHAR(128) NOT NULL,
  `challenge` VARCHAR(255) NOT NULL,
  `user_id` TEXT NULL,
  `type` TEXT NOT NULL,
  `expires_at` DATETIME(3) NOT NULL,
  `created_at` DATETIME(3) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `kavach_passkey_challenges_challenge_key` (`challenge`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS `kavach_one_time_tokens` (
  `id` VARCHAR(128) NOT NULL,
  `token_hash` VARCHAR(128) NOT NULL,
  `purpose` VARCHAR(128) NOT NULL,
  `identifier` VARCHAR(320) NOT NULL,
  `metadata` JSON NULL,
  `used` TINYINT(1) NOT NULL DEFAULT 0,
  `expires_at` DATETIME(3) NOT NULL,
  `created_at` DATETIME(3) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `kavach_one_time_tokens_token_hash_key` (`token_hash`),
  KEY `kavach_one_time_tokens_identifier_purpose` (`identifier`, `purpose`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS `kavach_agent_dids` (
  `agent_id` VARCHAR(128) NOT NULL,
  `did` VARCHAR(512) NOT NULL,
  `method` TEXT NOT NULL,
  `public_key_jwk` TEXT NOT NULL,
  `did_document` TEXT NOT NULL,
  `created_at` DATETIME(3) NOT NULL,
  PRIMARY KEY (`agent_id`),
  UNIQUE KEY `kavach_agent_dids_did_key` (`did`),
  CONSTRAINT `kavach_agent_dids_agent_id_fkey` FOREIGN KEY (`agent_id`) REFERENCES `kavach_agents` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS `kavach_magic_links` (
  `id` VARCHAR(128) NOT NULL,
  `email` VARCHAR(320) NOT NULL,
  `token` VARCHAR(255) NOT NULL,
  `expires_at` DATETIME(3) NOT NULL,
  `used` TINYINT(1) NOT NULL DEFAULT 0,
  `created_at` DATETIME(3) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `kavach_magic_links_token_key` (`token`),
  KEY `kavach_magic_links_email` (`email`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS `kavach_email_otps` (
  `id` VARCHAR(128) NOT NULL,
  `email` VARCHAR(320) NOT NULL,
  `code_hash` TEXT NOT NULL,
  `expires_at` DATETIME(3) NOT NULL,
  `attempts` BIGINT NOT NULL DEFAULT 0,
  `created_at` DATETIME(3) NOT NULL,
  PRIMARY KEY (`id`),
  KEY `kavach_email_otps_email` (`email`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS `kavach_totp` (
  `user_id` VARCHAR(128) NOT NULL,
  `secret` TEXT NOT NULL,
  `enabled` TINYINT(1) NOT NULL DEFAULT 0,
  `backup_codes` JSON NOT NULL,
  `created_at` DATETIME(3) NOT NULL,
  `updated_at` DATETIME(3) NOT NULL,
  PRIMARY KEY (`user_id`),
  CONSTRAINT `kavach_totp_user_id_fkey` FOREIGN KEY (`user_id`) REFERENCES `kavach_users` (`id`) ON DELETE NO ACTION
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS `kavach_sso_connections` (
  `id` VARCHAR(128) NOT NULL,
  `org_id` VARCHAR(128) NOT NULL,
  `provider_id` TEXT NOT NULL,
  `type` TEXT NOT NULL,
  `domain` VARCHAR(255) NOT NULL,
  `enabled` INT NOT NULL DEFAULT 1,
  `created_at` DATETIME(3) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `kavach_sso_connections_domain_key` (`domain`),
  KEY `kavach_sso_connections_org_id` (`org_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS `kavach_api_keys` (
  `id` VARCHAR(128) NOT NULL,
  `user_id` VARCHAR(128) NOT NULL,
  `name` TEXT NOT NULL,
  `key_hash` VARCHAR(128) NOT NULL,
  `key_prefix` TEXT NOT NULL,
  `permissions` JSON NOT NULL,
  `expires_at` DATETIME(3) NULL,
  `last_used_at` DATETIME(3) NULL,
  `created_at` DATETIME(3) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `kavach_api_keys_key_hash_key` (`key_hash`),
  KEY `kavach_api_keys_user_id` (`user_id`),
  CONSTRAINT `kavach_api_keys_user_id_fkey` FOREIGN KEY (`user_id`) REFERENCES `kavach_users` (`id`) ON DELETE NO ACTION
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS `kavach_username_accounts` (
  `id` VARCHAR(128) NOT NULL,
  `user_id` VARCHAR(128) NOT NULL,
  `username` VARCHAR(255) NOT NULL,
  `password_hash` TEXT NOT NULL,
  `created_at` DATETIME(3) NOT NULL,
  `updated_at` DATETIME(3) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `kavach_username_accounts_username_key` (`username`),
  CONSTRAINT `kavach_username_accounts_user_id_fkey` FOREIGN KEY (`user_id`) REFERENCES `kavach_users` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS `kavach_phone_verifications` (
  `id` VARCHAR(128) NOT NULL,
  `phone_number` VARCHAR(128) NOT NULL,
  `code_hash` TEXT NOT NULL,
  `attempts` BIGINT NOT NULL DEFAULT 0,
  `expires_at` DATETIME(3) NOT NULL,
  `created_at` DATETIME(3) NOT NULL,
  PRIMARY KEY (`id`),
  KEY `kavach_phone_verifications_phone` (`phone_number`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS `kavach_trusted_devices` (
  `id` VARCHAR(128) NOT NULL,
  `user_id` VARCHAR(128) NOT NULL,
  `fingerprint` VARCHAR(255) NOT NULL,
  `label` TEXT NOT NULL,
  `trusted_at` DATETIME(3) NOT NULL,
  `expires_at` DATETIME(3) NOT NULL,
  PRIMARY KEY (`id`),
  KEY `kavach_trusted_devices_user_fingerprint` (`user_id`, `fingerprint`),
  CONSTRAINT `kavach_trusted_devices_user_id_fkey` FOREIGN KEY (`user_id`) REFERENCES `kavach_users` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS `kavach_login_history` (
  `id` VARCHAR(128) NOT NULL,
  `user_id` VARCHAR(128) NOT NULL,
  `method` TEXT NOT NULL,
  `ip` TEXT NULL,
  `user_agent` TEXT NULL,
  `timestamp` DATETIME(3) NOT NULL,
  PRIMARY KEY (`id`),
  KEY `kavach_login_history_user_ts` (`user_id`, `timestamp`),
  CONSTRAINT `kavach_login_history_user_id_fkey` FOREIGN KEY (`user_id`) REFERENCES `kavach_users` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS `kavach_oidc_clients` (
  `id` VARCHAR(128) NOT NULL,
  `client_id` VARCHAR(255) NOT NULL,
  `client_secret_hash` TEXT NOT NULL,
  `client_name` TEXT NOT NULL,
  `redirect_uris` JSON NOT NULL,
  `grant_types` JSON NOT NULL,
  `response_types` JSON NOT NULL,
  `scopes` JSON NOT NULL,
  `token_endpoint_auth_method` VARCHAR(128) NOT NULL DEFAULT 'client_secret_post',
  `created_at` DATETIME(3) NOT NULL,
  `updated_at` DATETIME(3) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `kavach_oidc_clients_client_id_key` (`client_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS `kavach_oidc_auth_codes` (
  `id` VARCHAR(128) NOT NULL,
  `code_hash` VARCHAR(128) NOT NULL,
  `client_id` TEXT NOT NULL,
  `user_id` VARCHAR(128) NOT NULL,
  `redirect_uri` TEXT NOT NULL,
  `scopes` TEXT NOT NULL,
  `nonce` TEXT NULL,
  `code_challenge` TEXT NULL,
  `code_challenge_method` TEXT NULL,
  `used` TINYINT(1) NOT NULL DEFAULT 0,
  `expires_at` DATETIME(3) NOT NULL,
  `created_at` DATETIME(3) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `kavach_oidc_auth_codes_code_hash_key` (`code_hash`),
  KEY `kavach_oidc_auth_codes_user_id` (`user_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS `kavach_oidc_refresh_tokens` (
  `id` VARCHAR(128) NOT NULL,
  `token_hash` VARCHAR(128) NOT NULL,
  `client_id` TEXT NOT NULL,
  `user_id` VARCHAR(128) NOT NULL,
  `scopes` TEXT NOT NULL,
  `revoked` TINYINT(1) NOT NULL DEFAULT 0,
  `expires_at` DATETIME(3) NOT NULL,
  `created_at` DATETIME(3) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `kavach_oidc_refresh_tokens_token_hash_key` (`token_hash`),
  KEY `kavach_oidc_refresh_tokens_user_id` (`user_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS `kavach_cost_events` (
  `id` VARCHAR(128) NOT NULL,
  `agent_id` VARCHAR(128) NOT NULL,
  `tool` TEXT NOT NULL,
  `input_tokens` BIGINT NULL,
  `output_tokens` BIGINT NULL,
  `cost_micros` BIGINT NOT NULL,
  `currency` VARCHAR(128) NOT NULL DEFAULT 'USD',
  `metadata` JSON NULL,
  `delegation_chain_id` VARCHAR(128) NULL,
  `recorded_at` DATETIME(3) NOT NULL,
  PRIMARY KEY (`id`),
  KEY `kavach_cost_events_agent_recorded` (`agent_id`, `recorded_at`),
  KEY `kavach_cost_events_chain_id` (`delegation_chain_id`),
  CONSTRAINT `kavach_cost_events_agent_id_fkey` FOREIGN KEY (`agent_id`) REFERENCES `kavach_agents` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS `kavach_ephemeral_sessions` (
  `id` VARCHAR(128) NOT NULL,
  `agent_id` VARCHAR(128) NOT NULL,
  `owner_id` VARCHAR(128) NOT NULL,
  `token_hash` VARCHAR(128) NOT NULL,
  `expires_at` DATETIME(3) NOT NULL,
  `max_actions` BIGINT NULL,
  `actions_used` BIGINT NOT NULL DEFAULT 0,
  `status` VARCHAR(128) NOT NULL DEFAULT 'active',
  `audit_group_id` TEXT NOT NULL,
  `created_at` DATETIME(3) NOT NULL,
  `updated_at` DATETIME(3) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `kavach_ephemeral_sessions_token_hash_key` (`token_hash`),
  KEY `kavach_ephemeral_sessions_owner_status` (`owner_id`, `status`),
  KEY `kavach_ephemeral_sessions_expires_at` (`expires_at`),
  CONSTRAINT `kavach_ephemeral_sessions_agent_id_fkey` FOREIGN KEY (`agent_id`) REFERENCES `kavach_agents` (`id`) ON DELETE CASCADE,
  CONSTRAINT `kavach_ephemeral_sessions_owner_id_fkey` FOREIGN KEY (`owner_id`) REFERENCES `kavach_users` (`id`) ON DELETE NO ACTION
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS `kavach_jwt_refresh_tokens` (
  `id` VARCHAR(128) NOT NULL,
  `token_hash` VARCHAR(128) NOT NULL,
  `user_id` VARCHAR(128) NOT NULL,
  `used` TINYINT(1) NOT NULL DEFAULT 0,
  `expires_at` DATETIME(3) NOT NULL,
  `created_at` DATETIME(3) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `kavach_jwt_refresh_tokens_token_hash_key` (`token_hash`),
  KEY `kavach_jwt_refresh_tokens_user_id` (`user_id`),
  CONSTRAINT `kavach_jwt_refresh_tokens_user_id_fkey` FOREIGN KEY (`user_id`) REFERENCES `kavach_users` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS `kavach_stream_events` (
  `id` VARCHAR(128) NOT NULL,
  `type` VARCHAR(128) NOT NULL,
  `timestamp` DATETIME(3) NOT NULL,
  `data` JSON NOT NULL,
  `agent_id` TEXT NULL,
  `user_id` TEXT NULL,
  PRIMARY KEY (`id`),
  KEY `kavach_stream_events_timestamp` (`timestamp`),
  KEY `kavach_stream_events_type_timestamp` (`type`, `timestamp`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS `kavach_rebac_resources` (
  `id` VARCHAR(128) NOT NULL,
  `type` TEXT NOT NULL,
  `parent_id` VARCHAR(128) NULL,
  `parent_type` VARCHAR(128) NULL,
  `created_at` DATETIME(3) NOT NULL,
  PRIMARY KEY (`id`),
  KEY `kavach_rebac_resources_parent` (`parent_id`, `parent_type`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS `kavach_rebac_relationships` (
  `id` VARCHAR(128) NOT NULL,
  `subject_type` VARCHAR(128) NOT NULL,
  `subject_id` VARCHAR(128) NOT NULL,
  `relation` VARCHAR(128) NOT NULL,
  `object_type` VARCHAR(128) NOT NULL,
  `object_id` VARCHAR(128) NOT NULL,
  `created_at` DATETIME(3) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `kavach_rebac_relationships_tuple` (`subject_type`, `subject_id`, `relation`, `object_type`, `object_id`),
  KEY `kavach_rebac_relationships_subject` (`subject_type`, `subject_id`),
  KEY `kavach_rebac_relationships_object` (`object_type`, `object_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS `kavach_federation_instances` (
  `id` VARCHAR(128) NOT NULL,
  `instance_id` VARCHAR(255) NOT NULL,
  `instance_url` TEXT NOT NULL,
  `public_key_jwk` TEXT NULL,
  `trust_level` VARCHAR(128) NOT NULL DEFAULT 'verify-only',
  `discovered_at` DATETIME(3) NULL,
  `created_at` DATETIME(3) NOT NULL,
  `updated_at` DATETIME(3) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `kavach_federation_instances_instance_id_key` (`instance_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS `kavach_federation_tokens` (
  `id` VARCHAR(128) NOT NULL,
  `token_jti` VARCHAR(255) NOT NULL,
  `agent_id` VARCHAR(128) NOT NULL,
  `source_instance_id` VARCHAR(255) NOT NULL,
  `target_instance_id` TEXT NULL,
  `direction` TEXT NOT NULL,
  `permissions` JSON NOT NULL,
  `trust_score` BIGINT NULL,
  `expires_at` DATETIME(3) NOT NULL,
  `created_at` DATETIME(3) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `kavach_federation_tokens_token_jti_key` (`token_jti`),
  KEY `kavach_federation_tokens_agent` (`agent_id`),
  KEY `kavach_federation_tokens_source` (`source_instance_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS `kavach_refresh_token_families` (
  `id` VARCHAR(128) NOT NULL,
  `user_id` VARCHAR(128) NOT NULL,
  `absolute_expires_at` DATETIME(3) NOT NULL,
  `revoked` TINYINT(1) NOT NULL DEFAULT 0,
  `created_at` DATETIME(3) NOT NULL,
  PRIMARY KEY (`id`),
  KEY `kavach_refresh_token_families_user_id` (`user_id`),
  CONSTRAINT `kavach_refresh_token_families_user_id_fkey` FOREIGN KEY (`user_id`) REFERENCES `kavach_users` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS `kavach_refresh_tokens` (
  `id` VARCHAR(128) NOT NULL,
  `family_id` VARCHAR(128) NOT NULL,
  `token_hash` VARCHAR(128) NOT NULL,
  `used` TINYINT(1) NOT NULL DEFAULT 0,
  `expires_at` DATETIME(3) NOT NULL,
  `created_at` DATETIME(3) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `kavach_refresh_tokens_token_hash_key` (`token_hash`),
  KEY `kavach_refresh_tokens_family_id` (`family_id`),
  CONSTRAINT `kavach_refresh_tokens_family_id_fkey` FOREIGN KEY (`family_id`) REFERENCES `kavach_refresh_token_families` (`id`) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

