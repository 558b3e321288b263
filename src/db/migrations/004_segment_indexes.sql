-- Indexes for segment queries (src/db/segments.ts). Every segment is answered from
-- code_issuance with index-only scans; these keep kind and the time window inside the index.

-- One group's customers, in customer order (semi-/anti-joins merge on it, pages stop early);
-- kind is carried so that kind filters need no heap. Supersedes the (group_id, customer_id,
-- issued_at) index of 003.
create index code_issuance_segment_group on code_issuance (group_id, customer_id, issued_at) include (kind);
drop index code_issuance_group_customer;

-- Issuances in a time window, whoever got them.
create index code_issuance_segment_time on code_issuance (issued_at) include (customer_id, kind);

-- Per-customer counts over the whole history (count >= n, count = 0, kind filters): B-tree
-- deduplication makes this about a third of the size of the (customer_id, issued_at, id)
-- profile index, and scanning it is correspondingly cheaper.
create index code_issuance_segment_customer on code_issuance (customer_id, kind);
