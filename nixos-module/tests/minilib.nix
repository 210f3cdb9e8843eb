# A small subset of nixpkgs' lib (module system, types, helpers) for CI, where nixpkgs is
# not available. It only approximates nixpkgs: no mkBefore/mkAfter/mkOrder, no freeform
# types, no declaration merging (list definitions from several modules are concatenated in
# nixpkgs' order, though). The flake check eval-nixpkgs runs the same harness with
# the real lib and must produce the same golden files; re-run it after changing this file.
let
  inherit (builtins)
    all any attrNames concatLists concatStringsSep elem elemAt filter foldl' head isAttrs
    isBool isFunction isInt isList isPath isString length listToAttrs map mapAttrs match
    substring toJSON typeOf;

  # ---------------------------------------------------------------- helpers (lib.*)
  nameValuePair = name: value: { inherit name value; };
  concatMap = f: list: concatLists (map f list);
  concatMapStrings = f: list: concatStringsSep "" (map f list);
  concatMapStringsSep = sep: f: list: concatStringsSep sep (map f list);
  mapAttrs' = f: set: listToAttrs (map (n: f n set.${n}) (attrNames set));
  mapAttrsToList = f: set: map (n: f n set.${n}) (attrNames set);
  filterAttrs = pred: set:
    listToAttrs (concatMap (n: if pred n set.${n} then [ (nameValuePair n set.${n}) ] else [ ]) (attrNames set));
  genAttrs = names: f: listToAttrs (map (n: nameValuePair n (f n)) names);
  optional = cond: x: if cond then [ x ] else [ ];
  optionals = cond: xs: if cond then xs else [ ];
  optionalString = cond: s: if cond then s else "";
  optionalAttrs = cond: set: if cond then set else { };
  mapNullable = f: x: if x == null then null else f x;
  last = list: elemAt list (length list - 1);
  unique = foldl' (acc: x: if elem x acc then acc else acc ++ [ x ]) [ ];
  # Sorted, duplicate-free names (attribute names are sorted by the evaluator).
  uniqueNames = names: attrNames (listToAttrs (map (n: nameValuePair n null) names));
  escapeShellArg = arg:
    if match "[[:alnum:],._+:@%/-]+" arg != null then arg
    else "'" + builtins.replaceStrings [ "'" ] [ "'\\''" ] arg + "'";
  escapeShellArgs = args: concatStringsSep " " (map escapeShellArg args);

  # ---------------------------------------------------------------- option declarations
  mkOption = attrs: attrs // { _type = "option"; };
  isOption = v: isAttrs v && (v._type or null) == "option";
  mkEnableOption = name: mkOption {
    type = types.bool;
    default = false;
    example = true;
    description = "Whether to enable ${name}.";
  };
  literalExpression = text: { _type = "literalExpression"; inherit text; };

  # ---------------------------------------------------------------- definition properties
  mkIf = condition: content: { _type = "if"; inherit condition content; };
  mkMerge = contents: { _type = "merge"; inherit contents; };
  mkOverride = priority: content: { _type = "override"; inherit priority content; };
  mkOptionDefault = mkOverride 1500;
  mkDefault = mkOverride 1000;
  mkForce = mkOverride 50;
  kindOf = v: if isAttrs v then v._type or null else null;

  # ---------------------------------------------------------------- messages
  showPart = p:
    if p == "*" || match "<.*>" p != null || match "[a-zA-Z_][a-zA-Z0-9_'-]*" p != null then p
    else toJSON p;
  showOption = loc: concatStringsSep "." (map showPart loc);
  showValue = v:
    let t = typeOf v; in
    if t == "string" || t == "int" || t == "bool" || t == "null" then toJSON v
    else if t == "list" then "[ ${concatMapStringsSep " " showValue v} ]"
    else if t == "set" then (if v ? outPath then "<derivation ${v.name or "?"}>" else "{ ${concatMapStrings (n: "${showPart n} = ${showValue v.${n}}; ") (attrNames v)}}")
    else "<${t}>";
  showDefs = defs: concatMapStrings (d: "\n- In `${d.file}': ${showValue d.value}") defs;

  # ---------------------------------------------------------------- merging definitions
  # Resolve mkIf/mkMerge/mkOverride of one option's definitions, keep the highest priority
  # (lowest number), type-check, and merge with the type.
  mergeDefinitions = loc: type: defs:
    let
      flatten = file: prio: v:
        let k = kindOf v; in
        if k == "if" then
          (if !isBool v.condition then
            throw "mkIf called with a non-Boolean condition in a definition of `${showOption loc}'"
          else if v.condition then flatten file prio v.content else [ ])
        else if k == "merge" then concatMap (flatten file prio) v.contents
        else if k == "override" then flatten file v.priority v.content
        else [{ inherit file prio; value = v; }];
      flat = concatMap (d: flatten d.file 100 d.value) defs;
      best = foldl' (acc: d: if d.prio < acc then d.prio else acc) 100000 flat;
      winners = filter (d: d.prio == best) flat;
      invalid = filter (d: !(type.check d.value)) winners;
    in
    {
      isDefined = winners != [ ];
      value =
        if invalid != [ ] then
          throw "A definition for option `${showOption loc}' is not of type `${type.description}'. Definition values:${showDefs invalid}"
        else type.merge loc (map (d: { inherit (d) file value; }) winners);
    };

  mergeEqualOption = loc: defs:
    let first = head defs; in
    if length defs == 1 then first.value
    else if all (d: d.value == first.value) defs then first.value
    else throw "The option `${showOption loc}' has conflicting definition values:${showDefs defs}";

  mergeOneOption = loc: defs:
    if length defs == 1 then (head defs).value
    else throw "The unique option `${showOption loc}' is defined multiple times. Definition values:${showDefs defs}";

  # ---------------------------------------------------------------- types
  mkOptionType =
    { name, description ? name, descriptionClass ? null, check ? (_: true), merge ? mergeEqualOption, ... }:
    { _type = "option-type"; inherit name description descriptionClass check merge; };

  phrase = ok: t: if ok (t.descriptionClass or null) then t.description else "(${t.description})";
  nounOrComposite = c: c == "noun" || c == "composite";

  isStorePathLike = x: isPath x || (isString x && substring 0 1 x == "/");
  isDerivation = x: isAttrs x && (x.type or null) == "derivation";
  # Like nixpkgs: strings, paths and sets that coerce to a string (outPath, __toString).
  isStringLike = x: isString x || isPath x || (isAttrs x && (x ? outPath || x ? __toString));
  hasInfix = infix: s: builtins.replaceStrings [ infix ] [ "" ] s != s;

  types = rec {
    anything = mkOptionType {
      name = "anything";
      descriptionClass = "noun";
      merge = loc: defs:
        if all (d: isAttrs d.value && !(d.value ? outPath)) defs then (attrsOf anything).merge loc defs
        else mergeEqualOption loc defs;
    };
    unspecified = mkOptionType { name = "unspecified"; description = "unspecified value"; descriptionClass = "noun"; };
    raw = mkOptionType { name = "raw"; description = "raw value"; descriptionClass = "noun"; merge = mergeOneOption; };
    bool = mkOptionType { name = "bool"; description = "boolean"; descriptionClass = "noun"; check = isBool; };
    int = mkOptionType { name = "int"; description = "signed integer"; descriptionClass = "noun"; check = isInt; };
    ints = {
      unsigned = mkOptionType {
        name = "unsignedInt";
        description = "unsigned integer, meaning >=0";
        descriptionClass = "nonRestrictiveClause";
        check = x: isInt x && x >= 0;
      };
      positive = mkOptionType {
        name = "positiveInt";
        description = "positive integer, meaning >0";
        descriptionClass = "nonRestrictiveClause";
        check = x: isInt x && x > 0;
      };
    };
    port = mkOptionType {
      name = "port";
      description = "16 bit unsigned integer; between 0 and 65535 (both inclusive)";
      check = x: isInt x && x >= 0 && x <= 65535;
    };
    str = mkOptionType { name = "str"; description = "string"; descriptionClass = "noun"; check = isString; };
    separatedString = sep: mkOptionType {
      name = "separatedString";
      description = "strings concatenated with ${toJSON sep}";
      descriptionClass = "noun";
      check = isString;
      merge = loc: defs: concatStringsSep sep (map (d: d.value) defs);
    };
    lines = separatedString "\n";
    strMatching = pattern: mkOptionType {
      name = "strMatching ${toJSON pattern}";
      description = "string matching the pattern ${pattern}";
      descriptionClass = "noun";
      check = x: isString x && match pattern x != null;
    };
    # One line, optionally newline-terminated (the newline is dropped), as nixpkgs.
    singleLineStr = mkOptionType {
      name = "singleLineStr";
      description = "(optionally newline-terminated) single-line string";
      descriptionClass = "noun";
      check = (strMatching "[^\n\r]*\n?").check;
      merge = loc: defs:
        let v = mergeEqualOption loc defs; n = builtins.stringLength v; in
        if n > 0 && substring (n - 1) 1 v == "\n" then substring 0 (n - 1) v else v;
    };
    # A field of /etc/passwd: the entry type without ":" or a newline.
    passwdEntry = t: addCheck t (x: !(hasInfix ":" x || hasInfix "\n" x)) // {
      name = "passwdEntry ${t.name}";
      description = "${phrase (c: c == "noun") t}, not containing newlines or colons";
      descriptionClass = "nonRestrictiveClause";
    };
    addCheck = t: extra: t // { check = x: t.check x && extra x; };
    path = mkOptionType {
      name = "path";
      description = "absolute path";
      descriptionClass = "noun";
      check = x: isStringLike x && substring 0 1 (toString x) == "/";
    };
    package = mkOptionType {
      name = "package";
      descriptionClass = "noun";
      check = x: isDerivation x || isStorePathLike x;
      merge = mergeOneOption;
    };
    shellPackage = package // { check = x: isDerivation x && x ? shellPath; };
    attrs = mkOptionType {
      name = "attrs";
      description = "attribute set";
      descriptionClass = "noun";
      check = isAttrs;
      merge = loc: defs: foldl' (acc: d: acc // d.value) { } defs;
    };

    enum = values:
      let show = v: if isString v then toJSON v else toString v; in
      mkOptionType {
        name = "enum";
        description =
          if values == [ ] then "impossible (empty enum)"
          else if length values == 1 then "value ${show (head values)} (singular enum)"
          else "one of ${concatMapStringsSep ", " show values}";
        descriptionClass = if length values < 2 then "noun" else "conjunction";
        check = x: elem x values;
      };

    nullOr = t: mkOptionType {
      name = "nullOr";
      description = "null or ${phrase (c: c == "noun" || c == "conjunction") t}";
      descriptionClass = "conjunction";
      check = x: x == null || t.check x;
      merge = loc: defs:
        let nulls = filter (d: d.value == null) defs; in
        if length nulls == length defs then null
        else if nulls != [ ] then throw "The option `${showOption loc}' is defined both null and not null, in ${concatMapStringsSep " and " (d: "`${d.file}'") defs}."
        else t.merge loc defs;
    };

    either = a: b: mkOptionType {
      name = "either";
      description =
        if (a.descriptionClass or null) == "nonRestrictiveClause" then "${a.description}, or ${phrase (c: c == "noun" || c == "conjunction") b}"
        else "${phrase (c: c == "noun" || c == "conjunction") a} or ${phrase (c: c == "noun" || c == "conjunction" || c == "composite") b}";
      descriptionClass = "conjunction";
      check = x: a.check x || b.check x;
      merge = loc: defs:
        if all (d: a.check d.value) defs then a.merge loc defs
        else if all (d: b.check d.value) defs then b.merge loc defs
        else mergeOneOption loc defs;
    };

    oneOf = ts: foldl' either (head ts) (builtins.tail ts);

    coercedTo = from: coerce: to: mkOptionType {
      name = "coercedTo";
      description = "${phrase (c: c == "noun") to} or ${phrase (c: c == "noun") from} convertible to it";
      check = x: (from.check x && to.check (coerce x)) || to.check x;
      merge = loc: defs: to.merge loc (map (d: d // { value = if from.check d.value then coerce d.value else d.value; }) defs);
    };

    listOf = t: mkOptionType {
      name = "listOf";
      description = "list of ${phrase nounOrComposite t}";
      descriptionClass = "composite";
      check = isList;
      merge = loc: defs:
        concatLists (builtins.genList
          (n:
            let d = elemAt defs n; in
            builtins.genList
              (m: (mergeDefinitions (loc ++ [ "[definition ${toString (n + 1)}-entry ${toString (m + 1)}]" ]) t
                [{ inherit (d) file; value = elemAt d.value m; }]).value)
              (length d.value))
          (length defs));
    };

    attrsOf = t: mkOptionType {
      name = "attrsOf";
      description = "attribute set of ${phrase nounOrComposite t}";
      descriptionClass = "composite";
      check = isAttrs;
      merge = loc: defs:
        let
          names = uniqueNames (concatMap (d: attrNames d.value) defs);
          perName = n: mergeDefinitions (loc ++ [ n ]) t
            (concatMap (d: if d.value ? ${n} then [{ inherit (d) file; value = d.value.${n}; }] else [ ]) defs);
          merged = map (n: nameValuePair n (perName n)) names;
        in
        listToAttrs (map (p: nameValuePair p.name p.value.value) (filter (p: p.value.isDefined) merged));
    };

    # A submodule: each definition is a module (attribute set or function) evaluated
    # together with the type's own module; `name` is the attribute name.
    submodule = module: mkOptionType {
      name = "submodule";
      check = x: isAttrs x || isFunction x;
      merge = loc: defs:
        (evalModules {
          modules = [ module ] ++ map (d: { _file = d.file; imports = [ d.value ]; }) defs;
          specialArgs = { name = last loc; };
          prefix = loc;
        }).config;
    };
  };

  # ---------------------------------------------------------------- evaluation
  # freeformType (a module-level key, as in nixpkgs): the type of attributes no option declares.
  metaKeys = [ "_file" "key" "imports" "meta" "disabledModules" "_class" "freeformType" ];

  evalModules = { modules, specialArgs ? { }, prefix ? [ ] }:
    let
      args = specialArgs // { inherit config options lib; };

      # Flatten imports; each module becomes { file, options, config }. In nixpkgs' order
      # (lib/modules.nix collects with builtins.genericClosure, then merges the definitions of
      # the last collected first): breadth first, reversed. It decides the order in which the
      # definitions of one list option from several modules are concatenated.
      collect = parentFile: ms: map (collectOne parentFile) ms;
      breadthFirst = entries: if entries == [ ] then [ ] else entries ++ breadthFirst (concatMap (e: e.children) entries);
      reverseList = list: builtins.genList (i: elemAt list (length list - 1 - i)) (length list);
      collectOne = parentFile: m:
        let
          file = if isPath m || isString m then toString m else parentFile;
          raw = if isPath m || isString m then import m else m;
          applied =
            if isFunction raw then
              let wanted = builtins.functionArgs raw; in
              raw (builtins.intersectAttrs wanted args // missingArgs wanted)
            else raw;
          # Ask for an argument nobody provides: fail like nixpkgs, naming it.
          missingArgs = wanted: mapAttrs
            (n: optionalArg: throw "The module `${file}' asks for argument `${n}', which is not available here.")
            (removeAttrs (filterAttrs (n: hasDefault: !hasDefault) wanted) (attrNames args));
          m' = applied;
          file' = m'._file or file;
          explicit = m' ? options || m' ? config;
          extra = if explicit then filter (k: !(elem k (metaKeys ++ [ "options" "config" ]))) (attrNames m') else [ ];
        in
        if !isAttrs m' then throw "The module `${file}' is not an attribute set or a function returning one."
        else if extra != [ ] then
          throw "Module `${file'}' has an unsupported attribute `${head extra}'. This is caused by introducing a top-level `config' or `options' attribute. Add configuration attributes immediately on the top level instead, or move all of them (namely: ${concatStringsSep " " extra}) into the explicit `config' attribute."
        else
          {
            file = file';
            options = m'.options or { };
            freeformType = m'.freeformType or null;
            config = if explicit then m'.config or { } else removeAttrs m' metaKeys;
            children = collect file' (m'.imports or [ ]);
          };

      collected = reverseList (breadthFirst (collect "<unknown-file>" modules));

      # Merge the option trees of all modules. Declaring one option twice is not supported.
      mergeDecls = loc: decls:
        let names = uniqueNames (concatMap attrNames decls); in
        listToAttrs (map
          (n:
            let
              ds = concatMap (d: if d ? ${n} then [ d.${n} ] else [ ]) decls;
              opts = filter isOption ds;
            in
            nameValuePair n (
              if opts == [ ] then mergeDecls (loc ++ [ n ]) ds
              else if length ds == 1 then head ds
              else throw "The option `${showOption (loc ++ [ n ])}' is declared more than once; minilib does not merge declarations."
            ))
          names);

      options = mergeDecls prefix (map (m: m.options) collected);

      # Split a definition of an attribute-set node into per-attribute definitions. mkIf,
      # mkMerge and mkOverride are pushed down without evaluating conditions, which keeps
      # `config` lazy (`mkIf cfg.enable { ... }` does not recurse into itself).
      pushDown = def:
        let
          go = wrap: v:
            let k = kindOf v; in
            if k == "if" then go (x: wrap (mkIf v.condition x)) v.content
            else if k == "override" then go (x: wrap (mkOverride v.priority x)) v.content
            else if k == "merge" then zip (map (go wrap) v.contents)
            else if isAttrs v then mapAttrs (_: x: [{ inherit (def) file; value = wrap x; }]) v
            else throw "A definition in `${def.file}' sets an attribute set of options to a ${typeOf v}.";
          zip = sets:
            let names = uniqueNames (concatMap attrNames sets); in
            listToAttrs (map (n: nameValuePair n (concatMap (s: s.${n} or [ ]) sets)) names);
        in
        go (x: x) def.value;

      # Only the top level of an evaluation (a submodule's own attributes) can be freeform.
      freeformTypes = filter (t: t != null) (map (m: m.freeformType) collected);

      evalNode = loc: opts: defs: freeform:
        let
          pushed = map pushDown defs;
          defsOf = n: concatMap (p: p.${n} or [ ]) pushed;
          undeclared = filter (n: !(opts ? ${n})) (uniqueNames (concatMap attrNames pushed));
          declared = mapAttrs
            (n: o: if isOption o then evalOption (loc ++ [ n ]) o (defsOf n) else evalNode (loc ++ [ n ]) o (defsOf n) null)
            opts;
          freeDefs = concatMap (n: map (d: { inherit (d) file; value = { ${n} = d.value; }; }) (defsOf n)) undeclared;
        in
        if undeclared == [ ] then declared
        else if freeform != null then freeform.merge loc freeDefs // declared
        else
          let n = head undeclared; in
          throw "The option `${showOption (loc ++ [ n ])}' does not exist. Definition values:${concatMapStrings (d: "\n- In `${d.file}'") (defsOf n)}";

      evalOption = loc: opt: defs:
        let
          allDefs = (if opt ? default then [{ file = "the default of `${showOption loc}'"; value = mkOptionDefault opt.default; }] else [ ]) ++ defs;
          res = mergeDefinitions loc (opt.type or types.anything) allDefs;
          merged =
            if (opt.readOnly or false) && length allDefs > 1 then
              throw "The option `${showOption loc}' is read-only, but it's set multiple times. Definition values:${concatMapStrings (d: "\n- In `${d.file}'") allDefs}"
            else if res.isDefined then res.value
            else throw "The option `${showOption loc}' was accessed but has no value defined. Try setting the option.";
        in
        if opt ? apply then opt.apply merged else merged;

      config = evalNode prefix options (map (m: { inherit (m) file; value = m.config; }) collected)
        (if freeformTypes == [ ] then null else head freeformTypes);
    in
    { inherit config options; };

  lib = {
    inherit
      nameValuePair concatMap concatMapStrings concatMapStringsSep mapAttrs' mapAttrsToList
      filterAttrs genAttrs optional optionals optionalString optionalAttrs mapNullable last
      unique escapeShellArg escapeShellArgs
      mkOption mkEnableOption literalExpression mkIf mkMerge mkOverride mkOptionDefault
      mkDefault mkForce mkOptionType types evalModules showOption mergeEqualOption mergeOneOption;
    inherit (builtins) mapAttrs attrNames attrValues concatStringsSep concatLists filter elem any all;
    isOption = isOption;
  };
in
lib
