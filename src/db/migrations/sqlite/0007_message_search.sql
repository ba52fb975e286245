-- Written by hand (Drizzle cannot declare a virtual table or a trigger): the full-text index of
-- message bodies, for GET /messages/search. External content: the text stays in `messages` only,
-- the index holds the words and their positions, rowid = messages.id. unicode61 with
-- remove_diacritics 2 splits on anything that is not a letter, number or mark in any script, and
-- matches without regard to case or accents ("cafe" finds "Café"). Runs of CJK characters are not
-- cut into words: such a run is one token, found whole or by a prefix (日本* finds 日本語). No
-- column sizes (columnsize=0): nothing ranks by bm25, and it saves each insert a write.
CREATE VIRTUAL TABLE `message_search` USING fts5(
  body, content='messages', content_rowid='id', columnsize=0, tokenize='unicode61 remove_diacritics 2'
);--> statement-breakpoint
-- New messages are added by the store, in the transaction that stores them (INDEX_BODIES in
-- src/db/sqlite-store.ts): an insert trigger would cost FTS5 a flush of its pending words per
-- message. Edits and deletes are rare: triggers keep the index in step with them, in the
-- statement that makes them, whoever makes them.
-- An external-content index forgets a row only when told the words it held: the old body.
CREATE TRIGGER `message_search_delete` AFTER DELETE ON `messages` BEGIN
  INSERT INTO `message_search` (`message_search`, rowid, body) VALUES ('delete', old.`id`, old.`body`);
END;--> statement-breakpoint
-- Only when the body changes (an edit, or a deletion that blanks it): status and read updates,
-- far more frequent, leave the index alone. A blanked body holds no words, so it is found by none.
CREATE TRIGGER `message_search_update` AFTER UPDATE OF `body` ON `messages` BEGIN
  INSERT INTO `message_search` (`message_search`, rowid, body) VALUES ('delete', old.`id`, old.`body`);
  INSERT INTO `message_search` (rowid, body) VALUES (new.`id`, new.`body`);
END;--> statement-breakpoint
-- The messages stored before this migration.
INSERT INTO `message_search` (`message_search`) VALUES ('rebuild');
