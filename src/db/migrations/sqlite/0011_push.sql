CREATE TABLE `push_subscriptions` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`user_id` integer NOT NULL,
	`endpoint` text NOT NULL,
	`p256dh` text NOT NULL,
	`auth` text NOT NULL,
	`created_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `push_subscriptions_endpoint` ON `push_subscriptions` (`endpoint`);--> statement-breakpoint
CREATE INDEX `push_subscriptions_user` ON `push_subscriptions` (`user_id`);--> statement-breakpoint
CREATE TABLE `push_retries` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`subscription_id` integer NOT NULL REFERENCES `push_subscriptions`(`id`) ON DELETE CASCADE,
	`payload` text NOT NULL,
	`topic` text,
	`urgency` text NOT NULL,
	`ttl` integer NOT NULL,
	`attempts` integer NOT NULL,
	`due_at` integer NOT NULL,
	`first_failed_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `push_retries_due` ON `push_retries` (`due_at`);--> statement-breakpoint
CREATE INDEX `push_retries_subscription` ON `push_retries` (`subscription_id`);
