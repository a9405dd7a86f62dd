# frozen_string_literal: true

require "strscan"

module AssistantChatNative
  class RubyStream
    module FallbackClassifier
      # Makes provider or transport text safe to show and log, as core/failure.c
      # does: API keys and bearer tokens become "[redacted]" (a "Bearer ", "key="
      # or "api_key: " label stays), control characters and runs of spaces fold
      # into one space, invalid UTF-8 becomes U+FFFD, and the text is cut at a
      # character boundary to fit a byte bound.
      module CleanText
        REDACTED = "[redacted]"
        # What an API key or token is made of; a key never ends with a full stop.
        TOKEN = %r{[A-Za-z0-9\-_.*~+/%=]+}
        LABEL = /(?:api_key|api-key|apikey|x-goog-api-key|access_token|authorization)/i
        SEPARATOR = /[:= "']{1,4}/
        BEARER = /bearer /i
        KEY_PARAMETER = /key=/i
        BLANK = /[\x00-\x20\x7F]/

        module_function

        # text (any encoding, any bytes) cleaned into at most max_bytes bytes of UTF-8.
        def clean(text, max_bytes)
          scanner = StringScanner.new(utf8(text))
          out = +""
          space_due = false
          until scanner.eos?
            if scanner.skip(BLANK)
              space_due = true
              next
            end
            kept = secret(scanner)
            # The label and the marker go in one by one, each only whole.
            (kept ? [kept, REDACTED] : [scanner.getch]).each do |piece|
              next if piece.empty?

              space = (space_due && !out.empty?) ? " " : ""
              return out if out.bytesize + space.bytesize + piece.bytesize > max_bytes

              out << space << piece
              space_due = false
            end
          end
          out
        end

        # Invalid bytes each become U+FFFD, as the C cleaner replaces them one by one.
        def utf8(text)
          text.to_s.dup.force_encoding(Encoding::UTF_8).scrub { |bytes| "\uFFFD" * bytes.bytesize }
        end

        # When a secret starts at the scanner's position: consumes it and returns the
        # label that stays visible ("" when none). Otherwise nil, nothing consumed.
        def secret(scanner)
          start = scanner.pos
          word_start = start.zero? || !alnum_byte?(scanner.string.getbyte(start - 1))
          kept = (word_start && bare_key(scanner)) || labelled(scanner, KEY_PARAMETER, 1)
          kept ||= labelled(scanner, BEARER, 6) || label_value(scanner) if word_start
          scanner.pos = start unless kept
          kept
        end

        def alnum_byte?(byte)
          byte.between?(0x30, 0x39) || byte.between?(0x41, 0x5A) || byte.between?(0x61, 0x7A)
        end

        # An OpenAI or Anthropic key ("sk-...") or a Google API key ("AIza...").
        def bare_key(scanner)
          start = scanner.pos
          return "" if scanner.skip(/sk-/) && token(scanner, 6)

          scanner.pos = start
          return "" if scanner.skip(/AIza/) && token(scanner, 16)

          scanner.pos = start
          nil
        end

        # A label ("key=", "Bearer ") that stays, then the token it introduces.
        def labelled(scanner, label, min)
          start = scanner.pos
          return nil unless scanner.scan(label)

          kept = scanner.matched
          return kept if token(scanner, min)

          scanner.pos = start
          nil
        end

        # "api_key: VALUE", "authorization=Bearer VALUE": label and separator stay.
        def label_value(scanner)
          start = scanner.pos
          return nil unless scanner.skip(LABEL) && scanner.skip(SEPARATOR)

          scanner.skip(BEARER)
          kept = scanner.string.byteslice(start, scanner.pos - start)
          return kept if token(scanner, 6)

          scanner.pos = start
          nil
        end

        # Consumes a token of at least min characters, its trailing full stops left in place.
        def token(scanner, min)
          value = scanner.check(TOKEN).to_s.sub(/\.+\z/, "")
          return false if value.length < min

          scanner.pos += value.bytesize
          true
        end
      end
    end
  end
end
