-- WITHOUT ROWID (added by hand: Drizzle cannot declare it): the (conv, first_id) key is the table's only B-tree.
CREATE TABLE `conversation_runs` (
	`conv` text NOT NULL,
	`first_id` integer NOT NULL,
	`last_id` integer NOT NULL,
	`ids` text NOT NULL,
	PRIMARY KEY(`conv`, `first_id`)
) WITHOUT ROWID;
--> statement-breakpoint
-- Added by hand: conversation_messages regrouped as runs of at most 256 ids (RUN_MAX_IDS). Messages
-- it did not list yet are found at start-up, as after a crash.
INSERT INTO `conversation_runs` (`conv`, `first_id`, `last_id`, `ids`)
SELECT `conv`, min(`id`), max(`id`), json_group_array(`id` ORDER BY `id`) FROM (
	SELECT `conv`, `id`, (row_number() OVER (PARTITION BY `conv` ORDER BY `id`) - 1) / 256 AS `run` FROM `conversation_messages`
) GROUP BY `conv`, `run`;
--> statement-breakpoint
DROP TABLE `conversation_messages`;
