-- The demo's live write load (pgbench custom script): one order with its
-- items, a status change, an event. Every transaction commits on the source
-- until the cutover makes it read-only.
\set cust random(1, 1000)
\set prod random(1, 500)
BEGIN;
INSERT INTO orders (customer_id, invoice_no, total) VALUES (:cust, nextval('invoice_no_seq'), 10) RETURNING id \gset
INSERT INTO order_items (order_id, product_id, qty) VALUES (:id, :prod, 1);
UPDATE orders SET status = 'paid', updated_at = now() WHERE id = :id;
INSERT INTO events (at, kind, payload) VALUES (now(), 'order', jsonb_build_object('order', :id));
COMMIT;
