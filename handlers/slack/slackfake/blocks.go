package slackfake

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
)

// blockTypes are the layout blocks Slack accepts (those slack-go knows).
var blockTypes = map[string]bool{
	"actions": true, "context": true, "context_actions": true, "divider": true, "file": true,
	"header": true, "image": true, "input": true, "markdown": true, "rich_text": true,
	"section": true, "call": true, "video": true, "table": true,
}

// normalizeBlocks checks a blocks argument the way Slack does — its outline
// and the Block Kit limits of the blocks and elements Liaison uses (see
// checkBlock) — and fills in the block_id and action_id Slack assigns when
// they are missing. It returns the error code Slack gives, invalid_blocks_format
// for text that is not a JSON array of objects, invalid_blocks for a block
// Slack refuses, and why, as Slack says it in response_metadata.
func normalizeBlocks(raw string, limit int) (json.RawMessage, string, string) {
	dec := json.NewDecoder(bytes.NewReader([]byte(raw)))
	dec.UseNumber()
	var blocks []object
	if err := dec.Decode(&blocks); err != nil || dec.More() {
		return nil, "invalid_blocks_format", "not a JSON array of blocks"
	}
	if len(blocks) > limit {
		return nil, "invalid_blocks", fmt.Sprintf("no more than %d items allowed [json-pointer:/blocks]", limit)
	}
	seen := map[string]bool{}
	for i, b := range blocks {
		at := fmt.Sprintf("/blocks/%d", i)
		if b == nil {
			return nil, "invalid_blocks_format", "not an object [json-pointer:" + at + "]"
		}
		typ, _ := b["type"].(string)
		if !blockTypes[typ] {
			return nil, "invalid_blocks", fmt.Sprintf("unknown block type %q [json-pointer:%s/type]", typ, at)
		}
		id, ok := ensureID(b, "block_id")
		if !ok {
			return nil, "invalid_blocks", "block_id must be 1 to 255 characters [json-pointer:" + at + "/block_id]"
		}
		if seen[id] {
			return nil, "invalid_blocks", fmt.Sprintf("duplicate block_id %q [json-pointer:%s/block_id]", id, at)
		}
		seen[id] = true
		if why := checkBlock(b, at); why != "" {
			return nil, "invalid_blocks", why
		}
		if why := normalizeElements(b, at); why != "" {
			return nil, "invalid_blocks", why
		}
	}
	out, err := json.Marshal(blocks)
	if err != nil {
		return nil, "invalid_blocks_format", err.Error()
	}
	return out, "", ""
}

// ensureID returns o's id under key, giving it a new one, as Slack does,
// when it has none; false when the id is not a string of 1 to 255 bytes.
func ensureID(o object, key string) (string, bool) {
	if o[key] == nil {
		o[key] = shortID()
	}
	id, ok := o[key].(string)
	return id, ok && id != "" && len(id) <= 255
}

// normalizeElements gives the interactive elements of a block their action_id
// and checks that action ids are unique in the block; it says why not.
func normalizeElements(b object, at string) string {
	seen := map[string]bool{}
	for _, el := range elementsOf(b) {
		typ, _ := el["type"].(string)
		if typ == "" {
			return "an element has no type [json-pointer:" + at + "]"
		}
		if !actionable(typ) {
			continue
		}
		id, ok := ensureID(el, "action_id")
		if !ok {
			return "action_id must be 1 to 255 characters [json-pointer:" + at + "]"
		}
		if seen[id] {
			return fmt.Sprintf("duplicate action_id %q [json-pointer:%s]", id, at)
		}
		seen[id] = true
	}
	return ""
}

// elementsOf returns the interactive-capable elements of a block: the
// elements of an actions block, a section's accessory, an input's element.
func elementsOf(b object) []object {
	var out []object
	switch b["type"] {
	case "actions", "context_actions":
		els, _ := b["elements"].([]any)
		for _, e := range els {
			if o, ok := e.(object); ok {
				out = append(out, o)
			}
		}
	case "section":
		if o, ok := b["accessory"].(object); ok {
			out = append(out, o)
		}
	case "input":
		if o, ok := b["element"].(object); ok {
			out = append(out, o)
		}
	}
	return out
}

func actionable(elementType string) bool {
	switch elementType {
	case "image", "plain_text", "mrkdwn":
		return false
	}
	return true
}

// findElement finds the element with actionID in stored blocks.
func findElement(blocks json.RawMessage, actionID string) (blockID string, el object, ok bool) {
	var bs []object
	if json.Unmarshal(blocks, &bs) != nil {
		return "", nil, false
	}
	for _, b := range bs {
		for _, e := range elementsOf(b) {
			if e["action_id"] == actionID {
				id, _ := b["block_id"].(string)
				return id, e, true
			}
		}
	}
	return "", nil, false
}

// input is an input block of a modal.
type input struct {
	blockID, actionID string
	element           object
}

// inputsOf lists the input blocks of a view's blocks.
func inputsOf(blocks []any) []input {
	var out []input
	for _, raw := range blocks {
		b, ok := raw.(object)
		if !ok || b["type"] != "input" {
			continue
		}
		el, _ := b["element"].(object)
		if el == nil {
			continue
		}
		bid, _ := b["block_id"].(string)
		aid, _ := el["action_id"].(string)
		out = append(out, input{blockID: bid, actionID: aid, element: el})
	}
	return out
}

// textOf returns the text of a text object ({"type":"plain_text","text":…}).
func textOf(v any) string {
	if o, ok := v.(object); ok {
		s, _ := o["text"].(string)
		return s
	}
	return ""
}

// shortID returns a random id like the ones Slack gives blocks ("P0z+f").
func shortID() string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/="
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}
