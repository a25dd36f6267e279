//! The `artifact.zotregistry.io` API: versioned types, the generated CRD and the names and labels of every child.
pub mod crd;
pub mod names;
pub mod v1alpha1;
