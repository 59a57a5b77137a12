package shard

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"strings"
)

// corpus_test.go generates realistic board names, independently of the
// weight tables of weights.go (which only share the top-level mix): WBO's
// random names by WBO's own algorithm, English board names from a word list,
// numbers, and names in other scripts from word lists.

// randomWBOName is buildRandomBoardName of whitebophir
// server/shared/pronounceable_name.mjs: four words of 2-3 syllables, each
// syllable NAME_SYLLABLES[uint16 % 73], joined by "-".
func randomWBOName(r *rand.Rand) string {
	const wordBytes = 1 + 3*2
	buf := make([]byte, 4*wordBytes)
	for i := range buf {
		buf[i] = byte(r.UintN(256))
	}
	words := make([]string, 4)
	for w := range words {
		off := w * wordBytes
		parts := 2 + int(buf[off])%2
		var b strings.Builder
		for p := 0; p < parts; p++ {
			v := binary.BigEndian.Uint16(buf[off+1+p*2:])
			b.WriteString(nameSyllables[int(v)%len(nameSyllables)])
		}
		words[w] = b.String()
	}
	return strings.Join(words, "-")
}

// englishBoardWords are words people name boards after (classes, meetings,
// projects, games), not a frequency table.
var englishBoardWords = strings.Fields(`
	agenda algebra alpha analysis anatomy animals apple april architecture art astronomy
	backlog banana band baseline biology birthday blueprint board book brainstorm brand budget bugs
	calculus calendar campaign canvas career chapter chemistry chess class client climate code
	colors comic community concept contract course craft customer
	daily dashboard data debate demo design diagram dinner doodle draft drawing dream
	economics editorial election energy engineering english essay event exam experiment
	family fashion feedback finance fitness flowchart focus french friday fun funnel future
	galaxy game garden geography geometry german goals grammar graph group guitar
	hackathon handbook health history hobby holiday homework house
	ideas infra interview intro inventory itinerary
	java jazz journal journey july june
	kanban keynote kickoff kitchen knowledge
	lab language launch layout lecture lesson library logo lunch
	maps marketing maths meeting memo menu mindmap mobile monday music
	network news notes novel
	office onboarding ops orbit outline
	painting paris party philosophy physics pictionary piano pitch plan planning poetry portfolio
	poster presentation pricing product project prototype puzzle
	quiz quarter questions
	reading recipes refactor release research retro retrospective review roadmap robot
	sales schedule school science scrum security session sketch sketches slides soccer
	spanish sprint standup startup statistics story strategy studio study summer support
	survey syllabus
	tasks team teaching tech test thesis timeline todo training travel trip tutorial
	ui ux
	vacation values vision vocabulary
	weekly whiteboard wiki wireframe workshop writing
	yoga
	zoo zoology`)

// foreignBoardWords are names in other scripts, by script, with the share
// of non-ASCII names each script gets in the corpus.
var foreignBoardWords = []struct {
	share float64
	words []string
}{
	{0.35, strings.Fields("проект встреча урок математика физика план идеи доска класс работа команда задачи история химия рисунок схема обучение семинар тест экзамен")},
	{0.25, strings.Fields("会議 計画 数学 授業 設計 プロジェクト アイデア ホワイトボード 練習 课程 项目 会议 设计 学习 计划 讨论 绘画 图表")},
	{0.15, strings.Fields("école été élève équipe étude économie énergie über öffentlich ñandú ça àla ökonomie ära łódź źródło ściana žurnál český")},
	{0.08, strings.Fields("회의 프로젝트 수업 계획 디자인 아이디어 학습 토론")},
	{0.07, strings.Fields("مشروع اجتماع درس خطة فكرة")},
	{0.04, strings.Fields("σχέδιο μάθημα ομάδα ιδέες")},
	{0.03, strings.Fields("פרויקט שיעור תוכנית")},
	{0.03, strings.Fields("🎨art 😀party 🚀launch 📚study")},
}

// corpusName draws one board name from the mix of weights.go (45% random,
// 38% English, 4.5% digits, 0.5% _~(), 12% other scripts).
func corpusName(r *rand.Rand) string {
	suffix := func() string {
		if r.IntN(2) == 0 {
			return ""
		}
		return fmt.Sprintf("-%d", r.IntN(100))
	}
	x := r.Float64()
	switch {
	case x < shareRandom:
		return randomWBOName(r)
	case x < shareRandom+shareEnglish:
		w := englishBoardWords[r.IntN(len(englishBoardWords))]
		if r.IntN(3) == 0 {
			w += "-" + englishBoardWords[r.IntN(len(englishBoardWords))]
		}
		return w + suffix()
	case x < shareRandom+shareEnglish+shareDigits:
		switch r.IntN(3) {
		case 0:
			return fmt.Sprintf("%d-%s", 2018+r.IntN(9), englishBoardWords[r.IntN(len(englishBoardWords))])
		case 1:
			return fmt.Sprintf("%d%s", 1+r.IntN(12), []string{"a", "b", "th-grade", "-maths"}[r.IntN(4)])
		default:
			return fmt.Sprintf("%d", r.IntN(100000))
		}
	case x < shareRandom+shareEnglish+shareDigits+sharePunct:
		return string("_~()"[r.IntN(4)]) + englishBoardWords[r.IntN(len(englishBoardWords))]
	}
	y := r.Float64()
	for _, s := range foreignBoardWords {
		if y < s.share {
			return s.words[r.IntN(len(s.words))] + suffix()
		}
		y -= s.share
	}
	s := foreignBoardWords[0]
	return s.words[r.IntN(len(s.words))]
}
