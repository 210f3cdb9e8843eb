# systemd.package, systemd.services, systemd.timers and systemd.tmpfiles.rules with the types
# of nixpkgs (nixos/lib/systemd-unit-options.nix, systemd-lib.nix, nixos/modules/system/boot/
# systemd.nix and systemd/tmpfiles.nix), written for these tests: the unit options this
# project's modules and the upstream modules they meet (syncoid, sanoid) set.
{ lib, pkgs, ... }:

let
  inherit (lib) mkOption mkOptionType types;
  inherit (builtins) all any concatLists elem filter isAttrs isBool isFloat isInt isList isPath isString length map toString trace;
  opt = type: default: mkOption { inherit type default; };

  # Upstream's unitNameType.
  unitNameType = types.strMatching "[a-zA-Z0-9@%:_.\\-]+[.](service|socket|device|mount|automount|swap|target|path|timer|scope|slice)";
  unitNames = opt (types.listOf unitNameType) [ ];

  # Upstream's unitOption: lists concatenate, anything else must be defined once. Upstream
  # declares no check; its unit renderer (attrsToSection) turns each value into text with
  # toString, so only values toString accepts end up in a unit: bool, number, string, path,
  # something with an outPath (a derivation), null, or a list of these. This stub checks that
  # at evaluation time, where a real system would only fail when the unit is built.
  renderable = v: v == null || isBool v || isInt v || isFloat v || isString v || isPath v
    || (isAttrs v && (v ? outPath || v ? __toString));
  unitOption = mkOptionType {
    name = "systemd option";
    check = v: renderable v || (isList v && all renderable v);
    merge = loc: defs:
      if any (d: isList d.value) defs then concatLists (map (d: if isList d.value then d.value else [ d.value ]) defs)
      else lib.mergeEqualOption loc defs;
  };

  # Upstream's checkService (checkUnitConfig "Service"): Type and Restart take known values.
  # Applied to the raw definitions, so mkIf/mkOverride wrappers are looked through.
  unwrap = v: if isAttrs v && elem (v._type or "") [ "if" "override" ] then v.content else v;
  oneOf = field: values: attrs:
    if attrs ? ${field} && !(elem (unwrap attrs.${field}) values)
    then [ "Systemd Service field `${field}' cannot have value `${toString (unwrap attrs.${field})}'." ] else [ ];
  checkService = attrs:
    let
      errors = oneOf "Type" [ "exec" "simple" "forking" "oneshot" "dbus" "notify" "notify-reload" "idle" ] attrs
        ++ oneOf "Restart" [ "no" "on-success" "on-failure" "on-abnormal" "on-abort" "always" ] attrs;
    in
    if errors == [ ] then true else trace (builtins.concatStringsSep "\n" errors) false;

  unitOptions = {
    enable = opt types.bool true;
    description = opt types.singleLineStr "";
    documentation = opt (types.listOf types.str) [ ];
    requires = unitNames;
    wants = unitNames;
    after = unitNames;
    before = unitNames;
    bindsTo = unitNames;
    partOf = unitNames;
    conflicts = unitNames;
    requisite = unitNames;
    onFailure = unitNames;
    wantedBy = unitNames;
    requiredBy = unitNames;
    unitConfig = opt (types.attrsOf unitOption) { };
    restartTriggers = opt (types.listOf types.unspecified) [ ];
  };
in
{
  options.systemd = {
    package = opt types.package pkgs.systemd;

    services = opt
      (types.attrsOf (types.submodule {
        options = unitOptions // {
          environment = opt (types.attrsOf (types.nullOr (types.oneOf [ types.str types.path types.package ]))) { };
          path = opt (types.listOf (types.oneOf [ types.package types.str ])) [ ];
          serviceConfig = opt (types.addCheck (types.attrsOf unitOption) checkService) { };
          script = opt types.lines "";
          preStart = opt types.lines "";
          postStop = opt types.lines "";
          restartIfChanged = opt types.bool true;
          stopIfChanged = opt types.bool true;
          startAt = mkOption {
            type = types.either types.str (types.listOf types.str);
            default = [ ];
            apply = v: if isList v then v else [ v ];
          };
        };
      }))
      { };

    timers = opt
      (types.attrsOf (types.submodule {
        options = unitOptions // { timerConfig = opt (types.attrsOf unitOption) { }; };
      }))
      { };

    tmpfiles.rules = opt (types.listOf types.str) [ ];
  };
}
