# Policy for the gatekeeper contract check (tests/run with a gatekeeper binary): the identity
# the syncoid corpus was recorded against. Datasets tank/data and "tank/my data", preset
# syncoid-pull, every tool except socat, mbuffer buffers up to 1G.
{
  services.zfs-gatekeeper = {
    enable = true;
    identities.corpus = {
      publicKeys = [ "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICsm+h8IZ+Tomp8GVnDxpp9Rcs129GtMhA2CnEv3FWfM root@backup" ];
      datasets = [ "tank/data" "tank/my data" ];
      preset = "syncoid-pull";
      tools = [ "lzop" "gzip" "pigz" "zstd" "zstdmt" "xz" "lz4" "mbuffer" ];
      # The corpus holds the snapshots of host vm with and without --identifier: the prefix
      # every syncoid run shares (the module warns about it).
      snapshotPrefix = "syncoid_";
      # syncoid --mbuffer-size up to 1G is in the corpus.
      mbufferMaxMemory = "1G";
    };
  };
}
