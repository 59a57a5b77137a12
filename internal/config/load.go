package config

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/spf13/viper"
	"go.yaml.in/yaml/v3"
)

// DefaultConfigFile is read when no --config is given and it exists in the
// working directory.
const DefaultConfigFile = "wbo-deploy.yaml"

// maxConfigFileSize bounds the config file: a real one is a few kilobytes.
const maxConfigFileSize = 1 << 20

// LoadOptions says where configuration comes from.
type LoadOptions struct {
	// ConfigFile is an explicit --config path; it is an error when it does not exist.
	ConfigFile string
	// SearchDefault reads ./wbo-deploy.yaml when ConfigFile is empty and that file exists.
	SearchDefault bool
	// Env is the environment as KEY=VALUE strings; nil means os.Environ().
	Env []string
	// Overrides are the flags the user set, by dotted key ("stack", "region").
	// Values are the setting's Go type or a string in the environment syntax.
	Overrides map[string]any
}

// Load builds the configuration with this precedence, highest first:
//
//  1. Overrides (command-line flags the user set);
//  2. the environment: WBO_DEPLOY_<KEY>, nested keys joined by "_"
//     (WBO_DEPLOY_NETWORK_VPC_CIDR, WBO_DEPLOY_APP_SHARDS); for region also
//     AWS_REGION, then AWS_DEFAULT_REGION. Lists are comma-separated
//     (a,b), maps are k=v,k2=v2; an empty variable counts as unset;
//  3. the config file (ConfigFile, or ./wbo-deploy.yaml with SearchDefault);
//  4. Default().
//
// Unknown keys and values of the wrong type, in the file, the environment or
// the overrides, are reported together as a *ValidationError (exit code 2).
// Load checks types only; call Validate for the rules of each setting.
//
// Viper holds the four layers and resolves the precedence. Two things are
// done outside it on purpose: the file is decoded here, strictly, because
// viper lower-cases every map key it stores (tag keys and environment
// variable names in app.env are case-sensitive) and converts types loosely
// (shards: "2"); and environment variables are read from Env for exactly the
// schema's keys, never through viper's AutomaticEnv, so nothing outside the
// schema is picked up and tests need not touch the process environment.
// Typed map[string]string and []string values pass through viper untouched.
func Load(opts LoadOptions) (*Config, error) {
	var p problems

	var fileVals map[string]any
	path := opts.ConfigFile
	if path == "" && opts.SearchDefault {
		if st, err := os.Stat(DefaultConfigFile); err == nil && !st.IsDir() {
			path = DefaultConfigFile
		}
	}
	if path != "" {
		data, ok := readConfigFile(path, &p)
		if ok {
			if root, ok := parseYAML(path, data, &p); ok {
				fileVals = fileValues(root, &p)
			}
		}
	}

	env := opts.Env
	if env == nil {
		env = os.Environ()
	}
	envVals := envValues(env, &p)
	ovVals := overrideValues(opts.Overrides, &p)
	if err := p.err(); err != nil {
		return nil, err
	}

	v := viper.New()
	def := Default()
	for _, f := range schema.fields {
		v.SetDefault(f.key, f.get(&def))
	}
	if len(fileVals) > 0 {
		if err := v.MergeConfigMap(nest(fileVals)); err != nil {
			p.add(FieldConfigFile, path, "%s: %v", path, err)
			return nil, p.err()
		}
	}
	// Set is viper's highest layer: environment first, then overrides, so an
	// override of the same key replaces the environment's value.
	for _, f := range schema.fields {
		if val, ok := envVals[f.key]; ok {
			v.Set(f.key, val)
		}
	}
	for _, f := range schema.fields {
		if val, ok := ovVals[f.key]; ok {
			v.Set(f.key, val)
		}
	}

	cfg := &Config{}
	for _, f := range schema.fields {
		if err := f.set(cfg, v.Get(f.key)); err != nil {
			p.add(f.key, "", "%v", err)
		}
	}
	if err := p.err(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// readConfigFile reads at most maxConfigFileSize bytes of path.
func readConfigFile(path string, p *problems) ([]byte, bool) {
	f, err := os.Open(path)
	if err != nil {
		switch {
		case errors.Is(err, fs.ErrNotExist):
			p.add(FieldConfigFile, path, "config file %s does not exist", show(path))
		default:
			p.add(FieldConfigFile, path, "cannot read config file %s: %v", show(path), err)
		}
		return nil, false
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.IsDir() {
		p.add(FieldConfigFile, path, "config file %s is a directory", show(path))
		return nil, false
	}
	data, err := io.ReadAll(io.LimitReader(f, maxConfigFileSize+1))
	if err != nil {
		p.add(FieldConfigFile, path, "cannot read config file %s: %v", show(path), err)
		return nil, false
	}
	if len(data) > maxConfigFileSize {
		p.add(FieldConfigFile, path, "config file %s is larger than %d bytes; is it the right file?", show(path), maxConfigFileSize)
		return nil, false
	}
	return data, true
}

// parseYAML decodes exactly one YAML document. Anchors, aliases and merge
// keys (<<) are resolved by the YAML library, which also refuses documents
// that expand aliases excessively ("billion laughs") and duplicate keys.
func parseYAML(path string, data []byte, p *problems) (root any, ok bool) {
	defer func() {
		// Defence in depth: the YAML parser is third-party code and Load must
		// never panic, whatever the file holds. FuzzLoad exercises this path.
		if r := recover(); r != nil {
			p.add(FieldConfigFile, path, "%s: cannot parse YAML (%v)", path, r)
			root, ok = nil, false
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, true // empty file or only comments
		}
		p.add(FieldConfigFile, path, "%s: %s", path, yamlMessage(err))
		return nil, false
	}
	var extra any
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
	case err != nil:
		p.add(FieldConfigFile, path, "%s: %s", path, yamlMessage(err))
		return nil, false
	default:
		p.add(FieldConfigFile, path, "%s holds more than one YAML document (a second \"---\"); put all settings in one", path)
		return nil, false
	}
	return root, true
}

// yamlMessage shortens the YAML library's error text ("yaml: line 3: ...").
func yamlMessage(err error) string {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if r := []rune(msg); len(r) > 300 {
		msg = string(r[:300]) + "…"
	}
	return "invalid YAML: " + msg
}

// nest turns {"app.shards": 2} into {"app": {"shards": 2}} for viper.
func nest(flat map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range flat {
		parts := strings.Split(k, ".")
		m := out
		for _, part := range parts[:len(parts)-1] {
			sub, ok := m[part].(map[string]any)
			if !ok {
				sub = map[string]any{}
				m[part] = sub
			}
			m = sub
		}
		m[parts[len(parts)-1]] = v
	}
	return out
}
