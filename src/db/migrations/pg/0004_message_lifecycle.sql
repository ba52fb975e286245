ALTER TABLE "messages" ADD COLUMN "edited_at" bigint;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "deleted_at" bigint;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "reply_to_id" bigint;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "mention_ids" text;--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "reply_count" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX "messages_replies" ON "messages" USING btree ("reply_to_id","id") WHERE reply_to_id is not null;--> statement-breakpoint
CREATE TABLE "reactions" (
	"message_id" bigint NOT NULL,
	"user_id" integer NOT NULL,
	"emoji" text NOT NULL,
	"created_at" bigint NOT NULL,
	CONSTRAINT "reactions_pk" PRIMARY KEY("message_id","user_id","emoji")
);
--> statement-breakpoint
CREATE TABLE "mentions" (
	"user_id" integer NOT NULL,
	"conv" text NOT NULL,
	"message_id" bigint NOT NULL,
	CONSTRAINT "mentions_pk" PRIMARY KEY("user_id","conv","message_id")
);
--> statement-breakpoint
ALTER TABLE "stream_events" ADD COLUMN "text_of" bigint;--> statement-breakpoint
CREATE INDEX "stream_events_text_of" ON "stream_events" USING btree ("text_of") WHERE text_of is not null;
