CREATE TABLE `webhook_endpoints` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`url` text NOT NULL,
	`secret` text NOT NULL,
	`events` text NOT NULL,
	`source` text DEFAULT 'api' NOT NULL,
	`created_at` integer NOT NULL,
	`failures` integer DEFAULT 0 NOT NULL,
	`paused_until` integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `webhook_endpoints_env` ON `webhook_endpoints` (`source`) WHERE source = 'env';--> statement-breakpoint
CREATE TABLE `webhook_outbox` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`seq` integer,
	`type` text NOT NULL,
	`conv` text,
	`frame` text,
	`created_at` integer NOT NULL,
	`fanned` integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE INDEX `webhook_outbox_unfanned` ON `webhook_outbox` (`conv`, `id`) WHERE fanned = 0;--> statement-breakpoint
CREATE TABLE `webhook_deliveries` (
	`endpoint_id` integer NOT NULL REFERENCES `webhook_endpoints`(`id`) ON DELETE CASCADE,
	`outbox_id` integer NOT NULL REFERENCES `webhook_outbox`(`id`),
	`conv` text,
	`state` text DEFAULT 'pending' NOT NULL,
	`attempts` integer DEFAULT 0 NOT NULL,
	`next_at` integer NOT NULL,
	`last_error` text,
	`created_at` integer NOT NULL,
	PRIMARY KEY (`endpoint_id`, `outbox_id`)
);
--> statement-breakpoint
CREATE INDEX `webhook_deliveries_due` ON `webhook_deliveries` (`next_at`) WHERE state = 'pending';--> statement-breakpoint
CREATE INDEX `webhook_deliveries_conv` ON `webhook_deliveries` (`endpoint_id`, `conv`, `outbox_id`) WHERE state = 'pending';--> statement-breakpoint
CREATE INDEX `webhook_deliveries_outbox` ON `webhook_deliveries` (`outbox_id`);
