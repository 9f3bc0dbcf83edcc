-- Sealing the telephone channel at rest (issue 10, src/pbx). Once `senim keys
-- init` has made the office key, the plain columns below stay NULL and the
-- values go to these instead; before it (and for rows written before it, until
-- `keys init` seals them in place) nothing changes.

-- pbx_calls: the caller ({"caller", "caller_raw"}), the called number and the
-- extension, each an age envelope to the office and escrow keys (only a person
-- reads them back: a missed call's number for a call-back); sealed_generation is
-- the office key generation they are sealed to.
ALTER TABLE pbx_calls ADD COLUMN caller_sealed BLOB;
ALTER TABLE pbx_calls ADD COLUMN called_sealed BLOB;
ALTER TABLE pbx_calls ADD COLUMN extension_sealed BLOB;
ALTER TABLE pbx_calls ADD COLUMN sealed_generation INTEGER;

-- pbx_cti_events: caller, called and answered_by, sealed with the intake key
-- while the daemon must read them back to make the call (sealed_to 'intake'),
-- then, once the call is registered as an appeal, sealed to the office key
-- instead (sealed_to 'office').
ALTER TABLE pbx_cti_events ADD COLUMN caller_sealed BLOB;
ALTER TABLE pbx_cti_events ADD COLUMN called_sealed BLOB;
ALTER TABLE pbx_cti_events ADD COLUMN answered_by_sealed BLOB;
ALTER TABLE pbx_cti_events ADD COLUMN sealed_to TEXT CHECK (sealed_to IN ('intake', 'office'));

-- pbx_recordings: the URL to download from, sealed with the intake key (erased
-- once the recording is stored); the file name (on the PBX, or of the upload),
-- sealed to the office key; file_generation: the office key generation the
-- stored file is sealed to (NULL: a plain file, named by its SHA-256; sealed
-- files and sha256 are the keyed hash of the SHA-256); unsealed_file: the plain
-- file a reseal replaced, still to be erased.
ALTER TABLE pbx_recordings ADD COLUMN url_sealed BLOB;
ALTER TABLE pbx_recordings ADD COLUMN file_name_sealed BLOB;
ALTER TABLE pbx_recordings ADD COLUMN file_generation INTEGER;
ALTER TABLE pbx_recordings ADD COLUMN unsealed_file TEXT;
