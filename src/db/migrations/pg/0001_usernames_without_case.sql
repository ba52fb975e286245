ALTER TABLE "users" DROP CONSTRAINT "users_username_unique";--> statement-breakpoint
-- Added by hand: usernames that differ only in case are made unique first, as in the SQLite
-- migration 0005_usernames_without_case.sql: the lowest id keeps the name, later ones get '-<id>'.
UPDATE "users" SET "username" = "username" || '-' || "id"
WHERE "id" NOT IN (SELECT min("id") FROM "users" GROUP BY lower("username"));--> statement-breakpoint
CREATE UNIQUE INDEX "users_username_lower" ON "users" USING btree (lower("username"));
