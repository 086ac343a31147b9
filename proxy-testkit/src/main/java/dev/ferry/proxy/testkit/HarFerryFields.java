package dev.ferry.proxy.testkit;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.time.Duration;

/** Ferry's own facts about an exchange, in the HAR entry's custom {@code _ferry} object. */
final class HarFerryFields {
  private HarFerryFields() {}

  static void write(JsonGenerator json, RecordedExchange e) throws IOException {
    json.writeObjectFieldStart("_ferry");
    json.writeNumberField("id", e.id());
    json.writeNumberField("connectionId", e.connectionId());
    json.writeNumberField("sequence", e.sequence());
    json.writeNumberField("durationNanos", e.duration().toNanos());
    if (e.clientAddress().isPresent()) {
      json.writeStringField("clientAddress", e.clientAddress().get().getAddress().getHostAddress()
          + ":" + e.clientAddress().get().getPort());
    }
    optional(json, "upstream", e.upstream().orElse(null));
    optional(json, "cache", e.cache().orElse(null));
    optional(json, "failure", e.failure().orElse(null));
    optional(json, "fault", e.fault().orElse(null));
    flag(json, "replayed", e.replayed());
    flag(json, "unmatched", e.unmatched());
    flag(json, "proxyMade", e.proxyMade());
    json.writeEndObject();
  }

  /** Fills the builder from an entry's {@code _ferry} object, or from the HAR fields without it. */
  static void read(JsonNode entry, RecordedExchange.Builder b) {
    JsonNode ferry = entry.path("_ferry");
    b.id = ferry.path("id").asLong(0);
    b.connectionId = ferry.path("connectionId").asLong(entry.path("connection").asLong(0));
    b.sequence = ferry.path("sequence").asInt(0);
    b.duration = ferry.has("durationNanos") ? Duration.ofNanos(ferry.get("durationNanos").asLong())
        : Duration.ofNanos((long) (entry.path("time").asDouble(0) * 1_000_000));
    b.clientAddress = HarReader.address(ferry.path("clientAddress").asText(null));
    b.upstream = ferry.path("upstream").asText(null);
    b.cache = ferry.path("cache").asText(null);
    b.failure = ferry.path("failure").asText(null);
    b.fault = ferry.path("fault").asText(null);
    b.replayed = ferry.path("replayed").asBoolean(false);
    b.unmatched = ferry.path("unmatched").asBoolean(false);
    b.proxyMade = ferry.path("proxyMade").asBoolean(false);
  }

  private static void optional(JsonGenerator json, String name, String value) throws IOException {
    if (value != null) {
      json.writeStringField(name, value);
    }
  }

  private static void flag(JsonGenerator json, String name, boolean value) throws IOException {
    if (value) {
      json.writeBooleanField(name, true);
    }
  }
}
