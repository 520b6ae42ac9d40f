//! Addresses as HAProxy parses them (str2sa_range).
