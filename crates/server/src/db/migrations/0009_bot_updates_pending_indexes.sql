-- The two secondary indexes of bot_updates serve only lookups of PENDING updates (the sweeper's
-- stranded updates, a chat's earliest pending update). As partial indexes they hold only the
-- rows in flight: a processed update leaves them instead of adding an entry to each (the status
-- change was two index writes per update on SQLite, and on PostgreSQL every non-HOT update
-- inserts into every index it belongs to), and they stay small however long the table grows.
DROP INDEX bot_updates_status;
DROP INDEX bot_updates_chat;
CREATE INDEX bot_updates_pending ON bot_updates (received_at, update_id) WHERE status = 'pending';
CREATE INDEX bot_updates_chat_pending ON bot_updates (bot_id, chat_id, update_id) WHERE status = 'pending';
