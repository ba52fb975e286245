CREATE TABLE `stream_events` (
	`seq` integer PRIMARY KEY NOT NULL,
	`user_id` integer,
	`group_id` integer,
	`frame` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `stream_events_user` ON `stream_events` (`user_id`,`seq`) WHERE user_id is not null;--> statement-breakpoint
CREATE INDEX `stream_events_group` ON `stream_events` (`group_id`,`seq`) WHERE group_id is not null;--> statement-breakpoint
CREATE TABLE `stream_state` (
	`id` integer PRIMARY KEY NOT NULL,
	`pruned_seq` integer NOT NULL
);
--> statement-breakpoint
INSERT INTO `stream_state` (`id`, `pruned_seq`) VALUES (1, 0);
