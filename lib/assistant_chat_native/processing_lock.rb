# frozen_string_literal: true

require "active_support/concern"
require "with_advisory_lock"

module AssistantChatNative
  # Gives a conversation model the processing lock the worker takes around a turn,
  # the methods the seed's worker calls, backed by these columns (the install
  # generator's migration adds them):
  #
  #   processing_by_id   integer   who sent the message being answered (0 when unknown)
  #   processing_since   datetime  when the lock was taken (refreshed by heartbeats)
  #   processing_job_id  string    the Sidekiq jid holding it
  #   error_count        integer   turns that ended in an error (track_error!)
  #   last_error_at      datetime  when the last one did
  #
  # Two locks guard a turn. The advisory lock (`with_advisory_lock` gem: PostgreSQL
  # session locks, MySQL GET_LOCK, a file lock elsewhere) is held by a live
  # database session, so it disappears with a crashed process. The column lock is
  # what the UI sees. Whoever wins the advisory lock may therefore take over a
  # column lock left behind by a crashed job (`force_processing_lock!`).
  #
  #   class Conversation < ApplicationRecord
  #     include AssistantChatNative::ProcessingLock
  #   end
  module ProcessingLock
    extend ActiveSupport::Concern

    # The advisory lock's name: one per conversation, namespaced by table.
    def processing_lock_key
      "#{self.class.table_name}:processing:#{id}"
    end

    # Takes the column lock unless another job holds it. Atomic (one UPDATE with
    # the condition in its WHERE), so two processes cannot both win. The same job
    # id may take it again: a job Sidekiq requeued after a hard stop re-enters its
    # own lock. Returns true when taken. The record's columns then hold what the
    # UPDATE wrote (nothing is read back: the values are ours).
    def acquire_processing_lock!(sender, job_id:)
      columns = processing_columns(sender, job_id)
      taken = self.class.where(id: id)
        .where("processing_by_id IS NULL OR processing_job_id = ?", job_id.to_s)
        .update_all(columns)
      return false unless taken == 1

      write_processing_columns(columns)
      true
    end

    # Takes the column lock whoever holds it. Only for a caller that holds the
    # advisory lock, which proves the recorded holder is gone.
    def force_processing_lock!(sender, job_id:)
      columns = processing_columns(sender, job_id)
      self.class.where(id: id).update_all(columns)
      write_processing_columns(columns)
      true
    end

    # Clears the column lock. Safe to call when it is not held. With job_id, only when
    # that job holds it (or nobody does), so a job that fails after another took the
    # conversation over cannot clear the other's lock; returns whether it was cleared.
    # The record's columns then show the lock as it is: cleared, or (read back) the
    # other job's.
    def release_processing_lock!(job_id: nil)
      return false unless persisted?

      scope = self.class.where(id: id)
      scope = scope.where("processing_job_id IS NULL OR processing_job_id = ?", job_id.to_s) if job_id
      cleared = {processing_by_id: nil, processing_since: nil, processing_job_id: nil}
      released = scope.update_all(cleared) == 1
      released ? write_processing_columns(cleared) : reload_processing_columns
      released
    end

    # Marks the lock as still in use (the worker calls it on heartbeats), so
    # `processing_stale?` only reports locks whose holder stopped beating.
    def touch_processing_lock!(job_id:)
      self.class.where(id: id, processing_job_id: job_id.to_s)
        .update_all(processing_since: current_time_from_proper_timezone) == 1
    end

    def processing?
      !processing_by_id.nil?
    end

    # True when the lock has not been refreshed for `after` seconds.
    def processing_stale?(after: 2 * AssistantChatNative::Worker::HEARTBEAT_INTERVAL)
      processing? && (processing_since.nil? || processing_since < Time.now - after)
    end

    # Counts a turn that ended in an error (one atomic UPDATE, so concurrent
    # errors all count). Tolerates tables without the columns.
    def track_error!
      return false unless persisted?

      now = current_time_from_proper_timezone
      sets = []
      sets << "error_count = COALESCE(error_count, 0) + 1" if has_attribute?(:error_count)
      sets << self.class.sanitize_sql(["last_error_at = ?", now]) if has_attribute?(:last_error_at)
      return false if sets.empty?

      self.class.where(id: id).update_all(sets.join(", "))
      fresh = self.class.uncached { self.class.where(id: id).pick(*%i[error_count last_error_at].select { |c| has_attribute?(c) }) }
      Array(fresh).zip(%i[error_count last_error_at].select { |c| has_attribute?(c) }).each do |value, column|
        self[column] = value
        clear_attribute_changes([column])
      end
      true
    end

    private

    def sender_id_for(sender)
      (sender.respond_to?(:id) ? sender.id : sender).to_i
    end

    # What taking the lock writes. The time is cut to microseconds, as the database
    # keeps it, so the record holds what a read would return.
    def processing_columns(sender, job_id)
      now = current_time_from_proper_timezone
      {processing_by_id: sender_id_for(sender), processing_since: now.change(usec: now.usec),
       processing_job_id: job_id.to_s}
    end

    # The record's columns as an UPDATE just wrote them, not marked as changes to save.
    def write_processing_columns(columns)
      columns.each { |name, value| self[name] = value }
      clear_attribute_changes(columns.keys)
    end

    def reload_processing_columns
      fresh = self.class.uncached { self.class.where(id: id).pick(:processing_by_id, :processing_since, :processing_job_id) }
      return unless fresh

      self.processing_by_id, self.processing_since, self.processing_job_id = fresh
      clear_attribute_changes(%i[processing_by_id processing_since processing_job_id])
    end
  end
end
