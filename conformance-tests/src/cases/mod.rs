//! The cases, one module per tier. [`for_each_case!`](crate::for_each_case)
//! lists them all; adding a case means writing its `pub async fn` and adding
//! its name to that list.

pub mod tables;

// --- shared by every case: model builders and seeds (builders), assertions,
// lookups, counts, page walks, boundary rows and races (support) ---
pub mod builders;
pub mod support;

// --- behaviour tiers: pagination, transactions, concurrency, errors, expiry ---
pub mod concurrency;
pub mod errors;
pub mod expiry;
pub mod pagination;
pub mod transactions;
// --- end behaviour tier modules ---

// --- domain operations (every method of every domain trait) ---
pub mod activity;
pub mod agents;
pub mod credentials;
pub mod misc;
pub mod oauth;
pub mod orgs;
pub mod sessions;
pub mod users;
// --- end domain operations modules ---

/// Calls `$callback!($backend, $factory; module::case, …)` with every case of
/// the suite.
#[doc(hidden)]
#[macro_export]
macro_rules! for_each_case {
    ($callback:path, $backend:ident, $factory:path) => {
        $callback!($backend, $factory;
            tables::every_table_round_trips,
            // --- behaviour tiers ---
            pagination::audit_log_pages_walk_every_size,
            pagination::audit_log_pages_break_time_ties_by_id,
            pagination::audit_log_pages_combine_filters_with_cursors,
            pagination::audit_log_pages_are_stable_under_inserts,
            pagination::agent_pages_walk_every_size,
            pagination::cost_event_pages_walk_every_size,
            pagination::login_history_pages_walk_every_size,
            pagination::stream_event_pages_walk_every_size,
            pagination::pages_reject_bad_limits,
            pagination::pages_reject_bad_cursors,
            pagination::pages_of_empty_lists_end_at_once,
            pagination::query_audit_logs_limit_and_offset,
            pagination::query_audit_logs_filters_each_field,
            transactions::transaction_commit_publishes_writes,
            transactions::transaction_rollback_discards_writes,
            transactions::transaction_dropped_without_commit_rolls_back,
            transactions::transaction_helper_commits_on_ok,
            transactions::transaction_helper_rolls_back_on_error,
            transactions::transaction_helper_rolls_back_on_panic,
            transactions::reader_outside_never_sees_uncommitted_writes,
            transactions::nested_transaction_commit_joins_outer,
            transactions::nested_transaction_rollback_undoes_only_inner,
            transactions::outer_rollback_undoes_committed_inner,
            transactions::nested_transaction_recovers_from_failed_statement,
            transactions::domain_operations_run_inside_a_transaction,
            transactions::multi_step_operations_are_all_or_nothing,
            concurrency::concurrent_rate_limit_increments_lose_nothing,
            concurrency::concurrent_duplicate_inserts_conflict_for_all_but_one,
            concurrency::concurrent_one_time_token_consumed_once,
            concurrency::concurrent_jwt_refresh_token_consumed_once,
            concurrency::concurrent_rotating_refresh_token_consumed_once,
            concurrency::concurrent_magic_link_consumed_once,
            concurrency::concurrent_oidc_auth_code_consumed_once,
            concurrency::concurrent_oidc_refresh_token_consumed_once,
            concurrency::concurrent_oauth_authorization_code_consumed_once,
            concurrency::concurrent_oauth_refresh_token_consumed_once,
            concurrency::concurrent_oauth_state_consumed_once,
            concurrency::concurrent_passkey_challenge_consumed_once,
            concurrency::concurrent_passkey_counter_advances_once,
            concurrency::concurrent_session_refresh_wins_once,
            concurrency::concurrent_otp_attempts_are_bounded,
            concurrency::concurrent_approve_and_deny_have_one_winner,
            concurrency::concurrent_invitation_acceptance_has_one_winner,
            concurrency::concurrent_ephemeral_actions_respect_the_limit,
            concurrency::concurrent_trust_score_upserts_never_fail,
            errors::duplicate_primary_key_is_conflict_on_every_table,
            errors::duplicate_unique_key_is_conflict_on_every_table,
            errors::null_unique_values_never_conflict,
            errors::named_inserts_report_conflict,
            errors::missing_parent_is_reference_on_every_foreign_key,
            errors::referenced_parent_cannot_be_deleted_or_rekeyed,
            errors::cascading_keys_delete_children,
            errors::multi_row_insert_is_all_or_nothing,
            errors::missing_keys_and_key_patches_are_rejected,
            errors::named_updates_of_missing_rows_are_not_found,
            errors::cascade_reports_equal_rows_removed,
            expiry::every_purge_deletes_exactly_the_expired_rows,
            expiry::oauth_access_token_purge_needs_both_expiries_past,
            expiry::refresh_token_purge_covers_tokens_and_families,
            expiry::purge_expired_reports_every_table,
            expiry::validate_session_at_the_boundary,
            expiry::expire_agents_at_the_boundary,
            expiry::expire_approval_requests_at_the_boundary,
            expiry::expire_ephemeral_sessions_at_the_boundary,
            expiry::expire_org_invitations_at_the_boundary,
            expiry::consume_operations_respect_the_expiry_boundary,
            // --- end behaviour tiers ---
            // --- domain operations ---
            users::user_lookups_find_the_stored_row,
            users::user_create_rejects_duplicate_keys,
            users::user_list_filters_order_and_window,
            users::user_update_applies_patch,
            users::user_delete_removes_row_or_refuses,
            users::user_delete_cascade_removes_everything_of_the_user,
            users::tenant_operations,
            agents::agent_create_and_lookups,
            agents::agent_create_with_permissions_is_all_or_nothing,
            agents::agent_list_filters_newest_first,
            agents::agent_list_page_walks_newest_first,
            agents::agent_update_touch_and_rotate,
            agents::agent_revoke_revokes_granted_delegations,
            agents::agent_bulk_revoke_and_expire,
            agents::agent_delete_removes_row_or_refuses,
            agents::agent_delete_cascade_reports_every_table,
            agents::permission_operations,
            agents::permission_replace_swaps_the_set,
            agents::agent_card_operations,
            agents::agent_did_operations,
            agents::trust_score_operations,
            activity::audit_log_write_count_and_retention,
            activity::rate_limit_counters,
            activity::delegation_lookups_and_listings,
            activity::delegation_revoke_follows_the_chain,
            activity::delegation_update_delete_and_purge,
            activity::budget_policy_operations,
            activity::cost_event_operations,
            activity::approval_listings,
            activity::approval_resolve_is_compare_and_set,
            activity::approval_expire_and_purge,
            activity::mcp_server_operations,
            sessions::session_lookups_and_listing,
            sessions::session_validate_drops_expired,
            sessions::session_update_and_refresh,
            sessions::session_deletes,
            sessions::jwt_refresh_token_operations,
            sessions::refresh_token_consume_and_reuse,
            sessions::refresh_token_expiry_outcomes,
            sessions::refresh_token_family_revoke_and_purge,
            sessions::ephemeral_session_create_and_lookups,
            sessions::ephemeral_consume_counts_actions,
            sessions::ephemeral_consume_refuses_expired_and_revoked,
            sessions::ephemeral_expire_and_purge,
            oauth::oauth_client_operations,
            oauth::oauth_access_token_lookups_and_revoke,
            oauth::oauth_refresh_token_consume,
            oauth::oauth_access_token_purge,
            oauth::oauth_authorization_code_lifecycle,
            oauth::oauth_account_operations,
            oauth::oauth_state_consume_and_purge,
            oauth::oidc_client_operations,
            oauth::oidc_auth_code_operations,
            oauth::oidc_refresh_token_operations,
            orgs::org_create_lookups_and_owner_listing,
            orgs::org_create_with_owner_and_memberships,
            orgs::org_list_search_and_window,
            orgs::org_update_and_delete,
            orgs::org_delete_cascade_reports_every_table,
            orgs::org_member_operations,
            orgs::org_invitation_operations,
            orgs::org_invitation_accept_is_compare_and_set,
            orgs::org_invitation_expire_and_purge,
            orgs::org_role_operations,
            orgs::sso_connection_operations,
            credentials::passkey_credential_operations,
            credentials::passkey_counter_only_advances,
            credentials::passkey_challenge_consume_and_purge,
            credentials::totp_operations,
            credentials::trusted_device_operations,
            credentials::api_key_operations,
            credentials::api_key_rotate_delete_and_purge,
            credentials::username_account_operations,
            credentials::login_history_record_and_prune,
            credentials::one_time_token_operations,
            credentials::magic_link_operations,
            credentials::email_otp_operations,
            credentials::phone_verification_operations,
            misc::stream_event_replay_and_retention,
            misc::rebac_resource_tree_delete,
            misc::rebac_relationship_queries,
            misc::federation_instance_operations,
            misc::federation_token_ledger,
            misc::purge_expired_covers_every_table,
            // --- end domain operations ---
        );
    };
}
