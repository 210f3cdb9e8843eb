# Golden case "syncoid-target": the README's upstream-syncoid alternative, evaluated against
# the typed stubs of services.syncoid / services.sanoid.
{
  imports = [ ../../examples/syncoid-target.nix ];
}
