-- Written by hand: the full-text index of message bodies, for GET /messages/search. A generated
-- column is computed by PostgreSQL in the statement that writes the row, so an insert, an edit of
-- the body or a delete updates the index in the same transaction; adding it computes it for every
-- stored message. The 'simple' configuration lowercases words of any language and neither stems
-- nor drops stop words (no language is assumed). Unlike the SQLite index it keeps accents: "cafe"
-- does not find "café" (unaccent is not immutable, so it cannot feed a generated column). The
-- column is left out of the Drizzle schema: the store's selects never fetch it.
ALTER TABLE "messages" ADD COLUMN "search" tsvector GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, "body")) STORED;--> statement-breakpoint
CREATE INDEX "messages_search" ON "messages" USING gin ("search");
