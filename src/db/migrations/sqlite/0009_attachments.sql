CREATE TABLE `attachments` (
	`id` text PRIMARY KEY NOT NULL,
	`uploader_id` integer NOT NULL,
	`sha256` text NOT NULL,
	`content_type` text NOT NULL,
	`size` integer NOT NULL,
	`name` text NOT NULL,
	`width` integer,
	`height` integer,
	`thumbnail` integer DEFAULT false NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `attachments_uploader` ON `attachments` (`uploader_id`);--> statement-breakpoint
CREATE INDEX `attachments_sha256` ON `attachments` (`sha256`);--> statement-breakpoint
CREATE INDEX `attachments_created` ON `attachments` (`created_at`);--> statement-breakpoint
CREATE TABLE `message_attachments` (
	`message_id` integer NOT NULL,
	`position` integer NOT NULL,
	`attachment_id` text NOT NULL,
	`conv` text NOT NULL,
	PRIMARY KEY(`message_id`, `position`)
);
--> statement-breakpoint
CREATE INDEX `message_attachments_attachment` ON `message_attachments` (`attachment_id`,`conv`);
