ALTER TABLE `messages` ADD `edited_at` integer;--> statement-breakpoint
ALTER TABLE `messages` ADD `deleted_at` integer;--> statement-breakpoint
ALTER TABLE `messages` ADD `reply_to_id` integer;--> statement-breakpoint
ALTER TABLE `messages` ADD `mention_ids` text;--> statement-breakpoint
ALTER TABLE `messages` ADD `reply_count` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX `messages_replies` ON `messages` (`reply_to_id`,`id`) WHERE reply_to_id is not null;--> statement-breakpoint
CREATE TABLE `reactions` (
	`message_id` integer NOT NULL,
	`user_id` integer NOT NULL,
	`emoji` text NOT NULL,
	`created_at` integer NOT NULL,
	PRIMARY KEY(`message_id`, `user_id`, `emoji`)
) WITHOUT ROWID;
--> statement-breakpoint
CREATE TABLE `mentions` (
	`user_id` integer NOT NULL,
	`conv` text NOT NULL,
	`message_id` integer NOT NULL,
	PRIMARY KEY(`user_id`, `conv`, `message_id`)
) WITHOUT ROWID;
--> statement-breakpoint
ALTER TABLE `stream_events` ADD `text_of` integer;--> statement-breakpoint
CREATE INDEX `stream_events_text_of` ON `stream_events` (`text_of`) WHERE text_of is not null;
--> statement-breakpoint
-- Delete means gone: the search index removes a deleted message's words from its pages at once,
-- rather than only marking them deleted until a merge.
INSERT INTO `message_search` (`message_search`, `rank`) VALUES ('secure-delete', 1);
