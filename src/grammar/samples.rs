//! Sample fetches, converters and ACL keywords (from `grammar/fetches.tsv`,
//! `grammar/converters.tsv`, `grammar/acl-keywords.tsv`).
