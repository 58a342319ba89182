import type { Knex } from 'knex';

/**
 * Schema, only through migrations (run at start-up). Quantities and payloads are text (JSON with
 * decimal strings), never floats. Kept in code (not files) so they run the same under tsx and in
 * tests on SQLite and PostgreSQL.
 */
export interface Migration {
  name: string;
  up(k: Knex): Promise<void>;
  down(k: Knex): Promise<void>;
}

const m001: Migration = {
  name: '001_initial',
  async up(k) {
    await k.schema.createTable('documents', (t) => {
      t.increments('id').primary();
      t.string('direction', 3).notNullable(); // in | out
      t.string('partner_id', 64).nullable();
      t.string('channel', 32).notNullable(); // folder:<partner> | sftp:<partner> | api
      t.string('filename', 512).notNullable();
      t.string('source_path', 1024).nullable();
      t.boolean('source_done').notNullable().defaultTo(false);
      t.string('sha256', 64).notNullable();
      t.bigInteger('size').notNullable();
      t.string('raw_path', 1024).notNullable();
      t.string('format', 16).nullable();
      t.string('status', 16).notNullable();
      t.string('error_code', 64).nullable();
      t.text('error_message').nullable();
      t.string('set_ids', 128).nullable();
      t.string('isa13s', 256).nullable();
      t.integer('event_count').notNullable().defaultTo(0);
      t.integer('attempts').notNullable().defaultTo(0);
      t.string('correlation_id', 64).notNullable();
      t.string('received_at', 32).notNullable();
      t.string('processed_at', 32).nullable();
      t.index(['status']);
      t.index(['partner_id', 'received_at']);
      t.index(['channel', 'filename', 'sha256']);
    });
    await k.schema.createTable('interchanges', (t) => {
      t.increments('id').primary();
      t.integer('document_id').notNullable().references('documents.id');
      t.integer('seq').notNullable();
      t.string('partner_id', 64).nullable();
      t.string('sender', 32).notNullable();
      t.string('receiver', 32).notNullable();
      t.string('isa13', 9).notNullable();
      t.string('status', 16).notNullable(); // ACCEPTED | PARTIAL | REJECTED | DUPLICATE
      t.string('created_at', 32).notNullable();
      t.unique(['document_id', 'seq']);
      t.index(['partner_id', 'isa13']);
    });
    await k.schema.createTable('events', (t) => {
      t.increments('seq').primary();
      t.string('id', 36).notNullable().unique();
      t.string('idempotency_key', 255).notNullable().unique();
      t.string('type', 32).notNullable();
      t.string('partner_id', 64).notNullable();
      t.integer('document_id').notNullable().references('documents.id');
      t.integer('interchange_seq').notNullable();
      t.integer('group_seq').notNullable();
      t.string('occurred_at', 32).notNullable();
      t.string('recorded_at', 32).notNullable();
      t.string('correlation_id', 64).notNullable();
      t.text('payload').notNullable();
      t.index(['document_id']);
      t.index(['partner_id', 'type']);
    });
    await k.schema.createTable('rejections', (t) => {
      t.increments('id').primary();
      t.integer('document_id').notNullable().references('documents.id');
      t.string('code', 64).notNullable();
      t.string('severity', 8).notNullable();
      t.text('message').notNullable();
      t.string('isa13', 16).nullable();
      t.string('gs06', 16).nullable();
      t.string('st02', 16).nullable();
      t.integer('segment_index').nullable();
      t.integer('set_position').nullable();
      t.string('segment_tag', 8).nullable();
      t.integer('element').nullable();
      t.integer('component').nullable();
      t.string('value', 128).nullable();
      t.index(['document_id']);
      t.index(['code']);
    });
    await k.schema.createTable('outbox', (t) => {
      t.increments('id').primary();
      t.string('partner_id', 64).notNullable();
      t.string('kind', 16).notNullable(); // 997 | TA1 | TA1+997 | 846 | 856
      t.integer('source_document_id').nullable().references('documents.id');
      /** What this answers or comes from, unique: one ack per inbound interchange. */
      t.string('source_ref', 128).notNullable().unique();
      t.string('filename', 255).notNullable();
      t.text('content').notNullable();
      t.string('isa13', 9).notNullable();
      t.string('gs06', 9).nullable();
      t.string('status', 16).notNullable(); // PENDING | SENT | FAILED
      t.integer('attempts').notNullable().defaultTo(0);
      t.text('last_error').nullable();
      t.string('created_at', 32).notNullable();
      t.string('sent_at', 32).nullable();
      t.index(['status']);
      t.index(['partner_id', 'isa13']);
    });
    await k.schema.createTable('counters', (t) => {
      t.string('partner_id', 64).notNullable();
      t.string('name', 32).notNullable();
      t.bigInteger('value').notNullable();
      t.primary(['partner_id', 'name']);
    });
  },
  async down(k) {
    for (const t of ['counters', 'outbox', 'rejections', 'events', 'interchanges', 'documents']) await k.schema.dropTableIfExists(t);
  },
};

const m002: Migration = {
  name: '002_availability',
  async up(k) {
    const qty = (t: Knex.CreateTableBuilder, name: string) => t.bigInteger(name).notNullable().defaultTo(0);
    await k.schema.createTable('positions', (t) => {
      t.string('item', 128).notNullable();
      t.string('location', 64).notNullable();
      for (const c of ['on_hand', 'committed', 'in_transit', 'hold', 'damaged', 'safety_stock']) qty(t, c);
      t.string('expected_date', 10).nullable();
      t.bigInteger('last_movement_seq').notNullable().defaultTo(0);
      t.primary(['item', 'location']);
      t.index(['location', 'item']);
    });
    await k.schema.createTable('movements', (t) => {
      t.increments('seq').primary();
      t.integer('event_seq').nullable();
      t.integer('document_id').nullable();
      t.string('partner_id', 64).nullable();
      t.string('item', 128).notNullable();
      t.string('location', 64).notNullable();
      t.string('kind', 24).notNullable();
      for (const c of ['d_on_hand', 'd_committed', 'd_in_transit', 'd_hold', 'd_damaged', 'd_safety']) qty(t, c);
      t.string('reason', 64).nullable();
      t.string('ref', 128).nullable();
      t.string('expected_date', 10).nullable();
      t.string('created_at', 32).notNullable();
      // No secondary index: movements are appended and read whole (rebuild); an index per row
      // would halve the snapshot ingest rate.
    });
    await k.schema.createTable('orders', (t) => {
      t.increments('id').primary();
      t.string('partner_id', 64).notNullable();
      t.string('po_number', 64).notNullable();
      t.string('status', 16).notNullable(); // OPEN | BACKORDERED | SHIPPED | CANCELLED
      t.integer('event_seq').notNullable();
      t.string('received_at', 32).notNullable();
      t.unique(['partner_id', 'po_number']);
    });
    await k.schema.createTable('order_lines', (t) => {
      t.integer('order_id').notNullable().references('orders.id');
      t.string('line_number', 32).notNullable();
      t.string('item', 128).notNullable();
      t.string('uom', 8).nullable();
      t.string('location', 64).nullable();
      for (const c of ['ordered', 'committed', 'backordered', 'shipped']) qty(t, c);
      t.primary(['order_id', 'line_number']);
    });
    await k.schema.createTable('divergences', (t) => {
      t.increments('id').primary();
      t.integer('event_seq').notNullable();
      t.integer('document_id').notNullable();
      t.string('partner_id', 64).notNullable();
      t.string('item', 128).notNullable();
      t.string('location', 64).notNullable();
      qty(t, 'before');
      qty(t, 'after');
      qty(t, 'diff');
      t.string('created_at', 32).notNullable();
      t.index(['partner_id', 'id']);
    });
    await k.schema.createTable('publications', (t) => {
      t.string('partner_id', 64).primary();
      t.bigInteger('last_movement_seq').notNullable().defaultTo(0);
      t.string('last_full_at', 32).nullable();
      t.string('last_sent_at', 32).nullable();
    });
    await k.schema.alterTable('outbox', (t) => {
      t.string('content_path', 1024).nullable();
    });
  },
  async down(k) {
    await k.schema.alterTable('outbox', (t) => t.dropColumn('content_path'));
    for (const t of ['publications', 'divergences', 'order_lines', 'orders', 'movements', 'positions']) await k.schema.dropTableIfExists(t);
  },
};

const m003: Migration = {
  name: '003_asn',
  async up(k) {
    await k.schema.createTable('asns', (t) => {
      t.increments('id').primary();
      t.string('partner_id', 64).notNullable();
      t.string('po_number', 64).notNullable();
      t.string('shipment_id', 64).notNullable();
      t.integer('event_seq').notNullable();
      t.string('status', 16).notNullable(); // QUEUED | REFUSED
      t.text('reason').nullable();
      t.string('isa13', 9).nullable();
      t.string('created_at', 32).notNullable();
      t.unique(['partner_id', 'shipment_id', 'po_number']);
      t.index(['po_number']);
    });
    await k.schema.createTable('ssccs', (t) => {
      t.string('sscc', 18).primary();
      t.string('partner_id', 64).notNullable();
      t.integer('asn_id').notNullable();
    });
    await k.schema.alterTable('outbox', (t) => {
      t.string('ack_status', 24).nullable(); // accepted | accepted-with-errors | partially-accepted | rejected
      t.string('ack_at', 32).nullable();
      t.integer('ack_document_id').nullable();
    });
  },
  async down(k) {
    await k.schema.alterTable('outbox', (t) => {
      t.dropColumn('ack_status');
      t.dropColumn('ack_at');
      t.dropColumn('ack_document_id');
    });
    await k.schema.dropTableIfExists('ssccs');
    await k.schema.dropTableIfExists('asns');
  },
};

const m004: Migration = {
  name: '004_admin',
  async up(k) {
    // What a document can be found by: PO numbers, ISA13 and GS06 control numbers.
    await k.schema.createTable('document_refs', (t) => {
      t.integer('document_id').notNullable().references('documents.id');
      t.string('kind', 8).notNullable(); // po | isa13 | gs06
      t.string('value', 64).notNullable();
      t.primary(['kind', 'value', 'document_id']);
    });
    await k.schema.alterTable('documents', (t) => {
      t.integer('replay_of').nullable();
      t.index(['received_at']);
      t.index(['direction']);
      t.index(['replay_of']);
    });
  },
  async down(k) {
    await k.schema.alterTable('documents', (t) => {
      t.dropIndex(['received_at']);
      t.dropIndex(['direction']);
      t.dropIndex(['replay_of']);
      t.dropColumn('replay_of');
    });
    await k.schema.dropTableIfExists('document_refs');
  },
};

const m005: Migration = {
  name: '005_promises',
  async up(k) {
    const qty = (t: Knex.CreateTableBuilder, name: string) => t.bigInteger(name).notNullable().defaultTo(0);
    // What a warehouse holds back itself (its on hand minus its stated available): never promised.
    await k.schema.alterTable('positions', (t) => qty(t, 'wh_held'));
    await k.schema.alterTable('movements', (t) => qty(t, 'd_wh_held'));
    // What each partner was last shown and may still order of it (base units), per item and location.
    await k.schema.createTable('promises', (t) => {
      t.string('partner_id', 64).notNullable();
      t.string('item', 128).notNullable();
      t.string('location', 64).notNullable();
      qty(t, 'promised');
      qty(t, 'shown');
      t.bigInteger('seq').notNullable().defaultTo(0);
      t.string('updated_at', 32).notNullable();
      t.primary(['item', 'location', 'partner_id']);
      t.index(['seq']);
      t.index(['location', 'item']); // an 846 reads them page by page in (location, item) order
    });
    // Every partner id seen for an item (scope '' for global qualifiers, the partner for its own).
    await k.schema.createTable('item_ids', (t) => {
      t.string('scope', 64).notNullable();
      t.string('qualifier', 4).notNullable();
      t.string('value', 80).notNullable();
      t.string('item', 128).notNullable();
      t.primary(['scope', 'qualifier', 'value']);
      t.index(['item']);
    });
    await k.schema.createTable('provisional_items', (t) => {
      t.string('item', 128).primary();
      t.string('first_partner_id', 64).notNullable();
      t.integer('first_document_id').nullable();
      t.string('first_seen_at', 32).notNullable();
      t.string('last_seen_at', 32).notNullable();
      t.integer('seen').notNullable().defaultTo(1);
      t.string('status', 16).notNullable(); // PROVISIONAL | PROMOTED | MERGED
      t.string('became', 128).nullable();
      t.text('seen_in').nullable(); // JSON: [{partner, documentId, set}] (last 20)
    });
    await k.schema.alterTable('order_lines', (t) => {
      t.string('status', 16).notNullable().defaultTo('OPEN'); // OPEN | REJECTED
      t.string('reason_code', 64).nullable();
      t.text('reason').nullable();
      t.bigInteger('uom_factor').nullable(); // base units per line unit (1/10,000)
      t.string('parent_line', 32).nullable(); // a kit's component rows name the kit line
      t.bigInteger('seq').notNullable().defaultTo(0); // fill order within an order
    });
    await k.schema.alterTable('orders', (t) => {
      t.integer('rank').notNullable().defaultTo(0);
    });
    // The promise change a partner's last 846 saw (its next delta looks at what changed after it).
    await k.schema.alterTable('publications', (t) => {
      t.bigInteger('last_promise_seq').notNullable().defaultTo(0);
    });
    await k.raw('create index order_lines_open_backorders on order_lines (item) where backordered > 0');
    await k.schema.createTable('oversells', (t) => {
      t.increments('id').primary();
      t.string('partner_id', 64).notNullable();
      t.integer('order_id').notNullable();
      t.string('po_number', 64).notNullable();
      t.string('line_number', 32).notNullable();
      t.string('item', 128).notNullable();
      t.string('location', 64).nullable();
      qty(t, 'ordered');
      qty(t, 'committed');
      qty(t, 'promised');
      qty(t, 'shown');
      t.integer('document_id').nullable();
      t.string('created_at', 32).notNullable();
      t.index(['partner_id', 'id']);
      t.index(['po_number']);
    });
  },
  async down(k) {
    await k.schema.dropTableIfExists('oversells');
    await k.raw('drop index if exists order_lines_open_backorders');
    for (const [table, cols] of [['publications', ['last_promise_seq']], ['orders', ['rank']], ['order_lines', ['status', 'reason_code', 'reason', 'uom_factor', 'parent_line', 'seq']], ['movements', ['d_wh_held']], ['positions', ['wh_held']]] as const) {
      await k.schema.alterTable(table, (t) => {
        for (const c of cols) t.dropColumn(c);
      });
    }
    for (const t of ['provisional_items', 'item_ids', 'promises']) await k.schema.dropTableIfExists(t);
  },
};

/**
 * Documents in any order (issue 11): business keys beside the envelope's control numbers, events
 * held until what they refer to arrives (or for an admin), and the as-of time of the last snapshot
 * each position took.
 */
const m006: Migration = {
  name: '006_sequencing',
  async up(k) {
    await k.schema.createTable('business_keys', (t) => {
      t.string('partner_id', 64).notNullable();
      t.string('bkey', 300).notNullable();
      t.string('content_hash', 64).notNullable();
      t.integer('document_id').nullable();
      t.bigInteger('event_seq').nullable();
      t.string('created_at', 32).notNullable();
      t.primary(['partner_id', 'bkey']);
    });
    await k.schema.createTable('held_events', (t) => {
      t.increments('id').primary();
      t.bigInteger('event_seq').notNullable();
      t.integer('document_id').notNullable();
      t.string('partner_id', 64).notNullable();
      t.string('status', 16).notNullable(); // WAITING | CONFLICT | APPLIED | EXPIRED | DISCARDED
      t.string('waits_for', 300).nullable(); // po:<partner>:<po>, po:*:<po>, asn:<partner>:<shipment>
      t.string('reason_code', 64).notNullable();
      t.text('reason').notNullable();
      t.string('due_at', 32).nullable();
      t.string('created_at', 32).notNullable();
      t.string('settled_at', 32).nullable();
      t.string('settled_by', 128).nullable();
      t.index(['waits_for', 'status']);
      t.index(['status', 'due_at']);
      t.index(['document_id']);
    });
    // As-of times: the last snapshot a position took, and when a dated movement happened (a
    // snapshot counts the dated movements after its own time; older ones are in it already).
    await k.schema.alterTable('positions', (t) => {
      t.string('snapshot_as_of', 32).nullable();
    });
    await k.schema.alterTable('movements', (t) => {
      t.string('as_of', 32).nullable();
      // The on-hand change as the document dated it, before the never-below-zero clamp (a shipment
      // that came before the snapshot which had the stock for it): what a snapshot counts on top.
      t.bigInteger('dated_on_hand').nullable();
    });
    await k.raw('create index movements_dated on movements (item, location, as_of) where as_of is not null');
    await k.raw('create index movements_as_of on movements (as_of) where as_of is not null');
    // An order's status is derived from its lines and this flag (the same whatever order its documents came in).
    await k.schema.alterTable('orders', (t) => {
      t.boolean('cancelled').notNullable().defaultTo(false);
    });
    // The change sequence (860 BCH05) that last set a line: an older change arriving later is not applied over it.
    await k.schema.alterTable('order_lines', (t) => {
      t.bigInteger('change_seq').notNullable().defaultTo(0);
    });
    // The order a commitment or a shipment is for (a PO number alone is not unique across partners).
    await k.schema.alterTable('movements', (t) => {
      t.integer('order_id').nullable();
    });
    await k.raw('create index movements_order on movements (order_id) where order_id is not null');
    // An 846 delta due for a partner (debounce, minimum interval): a row, not a timer, so that a
    // restart or another instance sends it when its time has come.
    await k.schema.createTable('publish_due', (t) => {
      t.string('partner_id', 64).primary();
      t.string('due_at', 32).notNullable();
      t.string('created_at', 32).notNullable();
    });
    // An interchange is accepted once per partner (a unique index, not only a look before the
    // insert): two instances processing the same interchange at once cannot both accept it.
    // Replays record it again and are exempt; accepted duplicates already stored (before this)
    // keep their first row and count the rest as superseded.
    await k.schema.alterTable('interchanges', (t) => {
      t.boolean('replay').notNullable().defaultTo(false);
    });
    await k('interchanges').whereIn('document_id', k('documents').select('id').whereNotNull('replay_of')).update({ replay: true });
    const firsts = k('interchanges').where({ status: 'ACCEPTED', replay: false }).whereNotNull('partner_id').groupBy('partner_id', 'isa13').min({ id: 'id' });
    await k('interchanges').where({ status: 'ACCEPTED', replay: false }).whereNotNull('partner_id').whereNotIn('id', firsts).update({ replay: true });
    await k.raw('create unique index interchanges_accepted_once on interchanges (partner_id, isa13) where status = \'ACCEPTED\' and replay = false');
    // Processing attempts started (before the transaction): a document that kills the process
    // every time it is processed is told from one that failed and rolled back.
    await k.schema.alterTable('documents', (t) => {
      t.integer('starts').notNullable().defaultTo(0);
    });
    // An outbox entry is delivered by whoever claims it (a lease: several instances on PostgreSQL).
    await k.schema.alterTable('outbox', (t) => {
      t.string('claimed_by', 128).nullable();
      t.string('lease_until', 32).nullable();
    });
    // Supply on its way: a supplier's ship notice (856) per shipment, cleared by the warehouse's receipts (944).
    await k.schema.createTable('supply', (t) => {
      t.increments('id').primary();
      t.string('partner_id', 64).notNullable();
      t.string('shipment_id', 128).notNullable();
      t.string('location', 64).notNullable();
      t.string('status', 16).notNullable(); // OPEN | PARTIAL | RECEIVED | CANCELLED (from its lines and the flag)
      t.boolean('cancelled').notNullable().defaultTo(false);
      t.string('expected_date', 32).nullable();
      t.integer('document_id').nullable();
      t.string('created_at', 32).notNullable();
      t.string('updated_at', 32).notNullable();
      t.unique(['partner_id', 'shipment_id']);
      t.index(['shipment_id']);
      t.index(['status', 'expected_date']);
    });
    await k.schema.createTable('supply_lines', (t) => {
      t.integer('supply_id').notNullable();
      t.string('item', 128).notNullable();
      t.string('po_number', 64).nullable();
      t.bigInteger('expected').notNullable().defaultTo(0);
      t.bigInteger('received').notNullable().defaultTo(0);
      t.primary(['supply_id', 'item']);
    });
  },
  async down(k) {
    await k.schema.alterTable('orders', (t) => {
      t.dropColumn('cancelled');
    });
    await k.raw('drop index if exists interchanges_accepted_once');
    await k.schema.alterTable('interchanges', (t) => {
      t.dropColumn('replay');
    });
    await k.schema.dropTableIfExists('publish_due');
    await k.schema.alterTable('documents', (t) => {
      t.dropColumn('starts');
    });
    await k.schema.alterTable('outbox', (t) => {
      t.dropColumn('claimed_by');
      t.dropColumn('lease_until');
    });
    await k.schema.dropTableIfExists('supply_lines');
    await k.schema.dropTableIfExists('supply');
    await k.raw('drop index if exists movements_order');
    await k.schema.alterTable('movements', (t) => {
      t.dropColumn('order_id');
    });
    await k.schema.alterTable('order_lines', (t) => {
      t.dropColumn('change_seq');
    });
    await k.raw('drop index if exists movements_as_of');
    await k.raw('drop index if exists movements_dated');
    await k.schema.alterTable('movements', (t) => {
      t.dropColumn('as_of');
      t.dropColumn('dated_on_hand');
    });
    await k.schema.alterTable('positions', (t) => {
      t.dropColumn('snapshot_as_of');
    });
    await k.schema.dropTableIfExists('held_events');
    await k.schema.dropTableIfExists('business_keys');
  },
};

const m007: Migration = {
  name: '007_work_leases',
  async up(k) {
    // A received document is worked on by whoever holds its lease (several instances on one
    // PostgreSQL): another instance takes it over only once the lease has run out (its holder died).
    await k.schema.alterTable('documents', (t) => {
      t.string('claimed_by', 128).nullable();
      t.string('lease_until', 32).nullable();
    });
    await k.raw("create index documents_unfinished on documents (id) where status = 'RECEIVED' or source_done = false");
    // Named leases (one poller per SFTP channel): the holder renews it; when it dies, it runs out.
    await k.schema.createTable('leases', (t) => {
      t.string('name', 128).primary();
      t.string('holder', 128).notNullable();
      t.string('until', 32).notNullable();
    });
  },
  async down(k) {
    await k.schema.dropTableIfExists('leases');
    await k.raw('drop index if exists documents_unfinished');
    await k.schema.alterTable('documents', (t) => {
      t.dropColumn('claimed_by');
      t.dropColumn('lease_until');
    });
  },
};

const m008: Migration = {
  name: '008_released_to_warehouse',
  async up(k) {
    // What of each PO line a warehouse was told to ship (940s), in base units, cumulative.
    await k.schema.alterTable('order_lines', (t) => {
      t.bigInteger('released').notNullable().defaultTo(0);
    });
  },
  async down(k) {
    await k.schema.alterTable('order_lines', (t) => {
      t.dropColumn('released');
    });
  },
};

const m009: Migration = {
  name: '009_warehouse_orders',
  async up(k) {
    // One warehouse order (940 W0502) per PO, warehouse and location while it is open: changed by
    // 940s with W0501 R, cancelled by F, closed by the 945 that reports its shipment.
    await k.schema.createTable('warehouse_orders', (t) => {
      t.increments('id').primary();
      t.integer('order_id').notNullable().references('orders.id');
      t.string('partner_id').notNullable();
      t.string('location').notNullable();
      t.string('number').notNullable();
      t.string('status').notNullable(); // OPEN | CLOSED | CANCELLED
      t.integer('revisions').notNullable().defaultTo(0);
      t.string('created_at').notNullable();
      t.string('updated_at').notNullable();
      t.unique(['partner_id', 'number']);
      t.index(['order_id']);
    });
  },
  async down(k) {
    await k.schema.dropTable('warehouse_orders');
  },
};

const m010: Migration = {
  name: '010_feeds_and_sources',
  async up(k) {
    // Each partner's feed: when its last business document landed (not a 997, not a rejected or
    // duplicate file), and since when the partner is configured (the age of a feed that never
    // sent). Read by the metrics, GET /partners and the stale-feed check without a documents scan.
    await k.schema.createTable('feeds', (t) => {
      t.string('partner_id', 64).primary();
      t.string('configured_at', 32).notNullable();
      t.string('last_in_at', 32).nullable();
      t.integer('last_document_id').nullable();
    });
    const counted = await k('documents')
      .where({ direction: 'in' })
      .whereNotNull('partner_id')
      .whereNull('replay_of')
      .whereIn('status', ['PROCESSED', 'PARTIAL', 'WAITING'])
      .whereNotIn('set_ids', ['', '997', '999'])
      .select('partner_id')
      .min({ first: 'received_at' })
      .max({ last: 'received_at' })
      .max({ doc: 'id' })
      .groupBy('partner_id');
    for (const r of counted as Record<string, unknown>[]) await k('feeds').insert({ partner_id: r.partner_id, configured_at: r.first, last_in_at: r.last, last_document_id: r.doc });
    // The index the 997-overdue gauge reads through (no scrape scans a whole table).
    await k.schema.alterTable('outbox', (t) => {
      t.index(['ack_status', 'status']);
    });
    // One id follows an order's flow: the 850's correlation id, on the order and on everything
    // sent for it (855, 940, 856) and the acknowledgments of what came in.
    await k.schema.alterTable('orders', (t) => {
      t.string('correlation_id', 64).nullable();
    });
    await k.schema.alterTable('outbox', (t) => {
      t.string('correlation_id', 64).nullable();
      t.index(['correlation_id']);
    });
    for (const o of (await k('orders').select('id', 'event_seq')) as { id: unknown; event_seq: unknown }[]) {
      const e = await k('events').where({ seq: o.event_seq }).first('payload');
      const id = e ? (JSON.parse(String(e.payload)) as { correlationId?: string }).correlationId : undefined;
      if (id) await k('orders').where({ id: o.id }).update({ correlation_id: id });
    }
    // The open-backorders gauge reads backordered lines through an index.
    await k.schema.alterTable('order_lines', (t) => {
      t.index(['backordered']);
    });
    // The documents whose stock movements an outbound document (an 846) carries.
    await k.schema.createTable('outbox_sources', (t) => {
      t.integer('outbox_id').notNullable();
      t.integer('document_id').notNullable();
      t.primary(['outbox_id', 'document_id']);
      t.index(['document_id']);
    });
  },
  async down(k) {
    await k.schema.alterTable('outbox', (t) => {
      t.dropIndex(['ack_status', 'status']);
    });
    await k.schema.alterTable('order_lines', (t) => {
      t.dropIndex(['backordered']);
    });
    await k.schema.alterTable('outbox', (t) => {
      t.dropIndex(['correlation_id']);
      t.dropColumn('correlation_id');
    });
    await k.schema.alterTable('orders', (t) => {
      t.dropColumn('correlation_id');
    });
    await k.schema.dropTable('outbox_sources');
    await k.schema.dropTable('feeds');
  },
};

export const MIGRATIONS: Migration[] = [m001, m002, m003, m004, m005, m006, m007, m008, m009, m010];

export const migrationSource: Knex.MigrationSource<Migration> = {
  getMigrations: async () => MIGRATIONS,
  getMigrationName: (m) => m.name,
  getMigration: async (m) => ({ up: m.up, down: m.down }),
};
