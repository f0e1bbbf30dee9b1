// int64 fields (Timestamp and Duration seconds) decode as plain numbers: every value we handle is far
// below 2^53. Must run before the generated codec loads, because it reads util.Long for field defaults.
import * as $protobuf from "protobufjs/minimal";
($protobuf.util as { Long: unknown }).Long = null;
$protobuf.configure();
