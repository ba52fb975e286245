-- WITHOUT ROWID (added by hand: Drizzle cannot declare it): the (conv, id) key is the table's only B-tree.
CREATE TABLE `conversation_messages` (
	`conv` text NOT NULL,
	`id` integer NOT NULL,
	PRIMARY KEY(`conv`, `id`)
) WITHOUT ROWID;
--> statement-breakpoint
INSERT INTO `conversation_messages` (`conv`, `id`) SELECT `conv`, `id` FROM `messages` ORDER BY `conv`, `id`;
--> statement-breakpoint
DROP INDEX `messages_conv`;
