DROP INDEX `users_username_unique`;--> statement-breakpoint
-- Added by hand: usernames that differ only in case, allowed before, are made unique so that the
-- index below can be built. The oldest user (lowest id) keeps the name; each later one gets
-- '-<id>' appended ('Alice', id 7, becomes 'Alice-7'). Users are known by id everywhere else, so
-- nothing else changes. Should such a new name be taken already, the index fails and the server
-- refuses to start: rename that user by hand, then start it again.
UPDATE `users` SET `username` = `username` || '-' || `id`
WHERE `id` NOT IN (SELECT min(`id`) FROM `users` GROUP BY lower(`username`));--> statement-breakpoint
CREATE UNIQUE INDEX `users_username_lower` ON `users` (lower("username"));
