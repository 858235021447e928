//! Staff records as the API understands them: fields that parse, records, patches.

pub mod field;
pub mod staff;
