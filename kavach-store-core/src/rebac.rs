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

/// A relationship tuple (subject, relation, object).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RelationTuple {
    /// Subject type, e.g. `user`.
    pub subject_type: String,
    /// Subject id.
    pub subject_id: String,
    /// Relation, e.g. `viewer`.
    pub relation: String,
    /// Object type, e.g. `document`.
    pub object_type: String,
    /// Object id.
    pub object_id: String,
}

impl RelationTuple {
    fn to_cond(&self) -> Cond {
        Cond::eq("subject_type", self.subject_type.clone())
            .and(Cond::eq("subject_id", self.subject_id.clone()))
            .and(Cond::eq("relation", self.relation.clone()))
            .and(Cond::eq("object_type", self.object_type.clone()))
            .and(Cond::eq("object_id", self.object_id.clone()))
    }
}

/// Relationship-based access control: resources and tuples.
#[async_trait]
pub trait RebacStore: RowStore {
    /// Inserts a resource. `Conflict` when the id exists (ids are unique
    /// across types: the table's key is `id` alone).
    async fn create_rebac_resource(&self, resource: RebacResource) -> Result<RebacResource> {
        self.create(resource).await
    }
    /// The resource with this id and type.
    async fn get_rebac_resource(&self, id: &str, r#type: &str) -> Result<Option<RebacResource>> {
        self.find_first(Cond::eq("id", id).and(Cond::eq("type", r#type)), &[])
            .await
    }
    /// Direct children of a resource.
    async fn list_child_rebac_resources(
        &self,
        parent_id: &str,
        parent_type: &str,
    ) -> Result<Vec<RebacResource>> {
        let filter = Cond::eq("parent_id", parent_id).and(Cond::eq("parent_type", parent_type));
        self.find_all(filter, CREATED_ASC, None).await
    }
    /// Resources of a type.
    async fn list_rebac_resources_by_type(&self, r#type: &str) -> Result<Vec<RebacResource>> {
        self.find_all(Cond::eq("type", r#type), CREATED_ASC, None)
            .await
    }
    /// Deletes a resource, its descendants, and every tuple in which any of
    /// them is subject or object, in one transaction (`deleteResource`).
    /// Returns how many resources were deleted (0 when it did not exist).
    async fn delete_rebac_resource(&self, id: &str, r#type: &str) -> Result<u64> {
        let tx = self.begin().await?;
        let mut frontier = vec![(id.to_string(), r#type.to_string())];
        let mut deleted = 0;
        while let Some((id, ty)) = frontier.pop() {
            let gone = tx
                .delete_where::<RebacResource>(
                    Cond::eq("id", id.clone()).and(Cond::eq("type", ty.clone())),
                )
                .await?;
            if gone == 0 {
                continue;
            }
            deleted += gone;
            tx.delete_where::<RebacRelationship>(Cond::Or(vec![
                Cond::eq("subject_type", ty.clone()).and(Cond::eq("subject_id", id.clone())),
                Cond::eq("object_type", ty.clone()).and(Cond::eq("object_id", id.clone())),
            ]))
            .await?;
            let children: Vec<RebacResource> = tx
                .find_all(
                    Cond::eq("parent_id", id).and(Cond::eq("parent_type", ty)),
                    &[],
                    None,
                )
                .await?;
            frontier.extend(children.into_iter().map(|c| (c.id, c.r#type)));
        }
        tx.commit().await?;
        Ok(deleted)
    }
    /// Inserts a tuple. `Conflict` when the same tuple exists.
    async fn create_rebac_relationship(
        &self,
        relationship: RebacRelationship,
    ) -> Result<RebacRelationship> {
        self.create(relationship).await
    }
    /// The stored tuple, if any (`check`'s exact-tuple lookup).
    async fn find_rebac_relationship(
        &self,
        tuple: &RelationTuple,
    ) -> Result<Option<RebacRelationship>> {
        self.find_first(tuple.to_cond(), &[]).await
    }
    /// Deletes a tuple; returns how many rows (0 or 1).
    async fn delete_rebac_relationship(&self, tuple: &RelationTuple) -> Result<u64> {
        self.delete_where::<RebacRelationship>(tuple.to_cond())
            .await
    }
    /// Tuples with this subject, optionally of one relation and object type
    /// (`listObjects`, `expand`).
    async fn list_rebac_relationships_by_subject(
        &self,
        subject_type: &str,
        subject_id: &str,
        relation: Option<&str>,
        object_type: Option<&str>,
    ) -> Result<Vec<RebacRelationship>> {
        let filter = Cond::eq("subject_type", subject_type)
            .and(Cond::eq("subject_id", subject_id))
            .and_opt(relation, |r| Cond::eq("relation", r))
            .and_opt(object_type, |t| Cond::eq("object_type", t));
        self.find_all(filter, CREATED_ASC, None).await
    }
    /// Tuples with this object, optionally of one relation and subject type
    /// (`listSubjects`, `expand`).
    async fn list_rebac_relationships_by_object(
        &self,
        object_type: &str,
        object_id: &str,
        relation: Option<&str>,
        subject_type: Option<&str>,
    ) -> Result<Vec<RebacRelationship>> {
        let filter = Cond::eq("object_type", object_type)
            .and(Cond::eq("object_id", object_id))
            .and_opt(relation, |r| Cond::eq("relation", r))
            .and_opt(subject_type, |t| Cond::eq("subject_type", t));
        self.find_all(filter, CREATED_ASC, None).await
    }
}

impl<T: RowStore + ?Sized> RebacStore for T {}
