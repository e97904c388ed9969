//! Relationship-based access control resources and tuples.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

#[allow(unused_imports)]
use crate::prelude::*;

record! {
    /// ReBAC resource nodes with an optional parent, forming the inheritance hierarchy.
    ///
    /// Table `kavach_rebac_resources`.
    pub struct RebacResource => "kavach_rebac_resources", patch RebacResourcePatch {
        /// `id`: PK on `id` alone although the core always addresses a resource by (type, id).
        pub id: String,
        /// `type`.
        pub r#type: String,
        /// `parent_id`: No FK; paired with parent_type.
        pub parent_id: Option<String>,
        /// `parent_type`.
        pub parent_type: Option<String>,
        /// `created_at`.
        pub created_at: DateTime<Utc>,
    }
    primary_key: id;
    indexes: ["kavach_rebac_resources_parent": ["parent_id", "parent_type"]];
}

record! {
    /// Zanzibar-style (subject, relation, object) relationship tuples.
    ///
    /// Table `kavach_rebac_relationships`.
    pub struct RebacRelationship => "kavach_rebac_relationships", patch RebacRelationshipPatch {
        /// `id`: Core generates `rel_` + UUID.
        pub id: String,
        /// `subject_type`.
        pub subject_type: String,
        /// `subject_id`.
        pub subject_id: String,
        /// `relation`.
        pub relation: String,
        /// `object_type`.
        pub object_type: String,
        /// `object_id`.
        pub object_id: String,
        /// `created_at`.
        pub created_at: DateTime<Utc>,
    }
    primary_key: id;
    unique: ["kavach_rebac_relationships_tuple": ["subject_type", "subject_id", "relation", "object_type", "object_id"]];
    indexes: ["kavach_rebac_relationships_subject": ["subject_type", "subject_id"], "kavach_rebac_relationships_object": ["object_type", "object_id"]];
}
