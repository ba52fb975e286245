CREATE TABLE `user_conversations` (
	`user_id` integer NOT NULL,
	`conv` text NOT NULL,
	PRIMARY KEY(`user_id`, `conv`)
);
--> statement-breakpoint
PRAGMA foreign_keys=OFF;--> statement-breakpoint
CREATE TABLE `__new_messages` (
	`id` integer PRIMARY KEY NOT NULL,
	`conv` text NOT NULL,
	`sender_id` integer NOT NULL,
	`recipient_id` integer,
	`group_id` integer,
	`body` text NOT NULL,
	`message_type` text DEFAULT 'text' NOT NULL,
	`client_id` text,
	`status` text DEFAULT 'sent' NOT NULL,
	`created_at` integer NOT NULL,
	`read_at` integer
);
--> statement-breakpoint
INSERT INTO `__new_messages`("id", "conv", "sender_id", "recipient_id", "group_id", "body", "message_type", "client_id", "status", "created_at", "read_at") SELECT "id", "conv", "sender_id", "recipient_id", "group_id", "body", "message_type", "client_id", "status", "created_at", "read_at" FROM `messages`;--> statement-breakpoint
DROP TABLE `messages`;--> statement-breakpoint
ALTER TABLE `__new_messages` RENAME TO `messages`;--> statement-breakpoint
PRAGMA foreign_keys=ON;--> statement-breakpoint
CREATE INDEX `messages_conv` ON `messages` (`conv`,`id`);--> statement-breakpoint
CREATE INDEX `messages_undelivered` ON `messages` (`recipient_id`,`id`) WHERE status = 'sent' and recipient_id is not null;--> statement-breakpoint
INSERT OR IGNORE INTO `user_conversations` (`user_id`, `conv`)
	SELECT `sender_id`, `conv` FROM `messages` WHERE `group_id` IS NULL
	UNION SELECT `recipient_id`, `conv` FROM `messages` WHERE `group_id` IS NULL AND `recipient_id` IS NOT NULL;
