//! Staff records as the API understands them: fields that parse, records, patches, searches,
//! photos.

pub mod field;
pub mod name;
pub mod patch;
pub mod photo;
pub mod search;
pub mod staff;
pub mod time;
