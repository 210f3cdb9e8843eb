# A fake package set for evaluation without nixpkgs: derivation-shaped attribute sets with
# fixed store paths, and writers that keep their text. A written file's path hashes its
# name and text, so the harness can prove which text a unit refers to.
let
  inherit (builtins) hashString listToAttrs map substring;

  storePath = seed: name: "/nix/store/${substring 0 32 (hashString "sha256" seed)}-${name}";
  package = name: { type = "derivation"; inherit name; outPath = storePath name name; };
  packages = listToAttrs (map (name: { inherit name; value = package name; }) [
    "bash-5.2"
    "coreutils-9.5"
    "gzip-1.13"
    "lz4-1.9.4"
    "lzop-1.04"
    "mailutils-3.17"
    "mbuffer-20240107"
    "openssh-9.7p1"
    "pigz-2.8"
    "sanoid-2.2.0"
    "shadow-4.16.0"
    "socat-1.8.0.0"
    "systemd-257.5"
    "xz-5.4.6"
    "zfs-gatekeeper-0.1.0"
    "zstd-1.5.6"
  ]);
  pick = n: packages.${n};

  runtimeShell = "${pick "bash-5.2"}/bin/bash";

  writeText = name: text: {
    type = "derivation";
    inherit name text;
    outPath = storePath "${name}\n${text}" name;
  };
in
{
  inherit runtimeShell writeText;
  stdenv.hostPlatform.system = "x86_64-linux";
  bash = pick "bash-5.2";
  coreutils = pick "coreutils-9.5";
  # Login shells carry shellPath (users.users.<name>.shell accepts a package only with it).
  bashInteractive = pick "bash-5.2" // { shellPath = "/bin/bash"; };
  shadow = pick "shadow-4.16.0" // { shellPath = "/bin/nologin"; };
  gzip = pick "gzip-1.13";
  lz4 = pick "lz4-1.9.4";
  lzop = pick "lzop-1.04";
  mailutils = pick "mailutils-3.17";
  mbuffer = pick "mbuffer-20240107";
  openssh = pick "openssh-9.7p1";
  pigz = pick "pigz-2.8";
  sanoid = pick "sanoid-2.2.0";
  socat = pick "socat-1.8.0.0";
  systemd = pick "systemd-257.5";
  xz = pick "xz-5.4.6";
  zfs-gatekeeper = pick "zfs-gatekeeper-0.1.0";
  zstd = pick "zstd-1.5.6";
  # Like nixpkgs: a shebang line for runtimeShell, then the text.
  writeShellScript = name: text: writeText name "#!${runtimeShell}\n${text}";
}
